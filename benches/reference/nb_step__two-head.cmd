machine: Intel(R) Xeon(R) Processor, 2 cores; load 7.03 7.02 6.27; 2026-12-02
bayesband fit --data benches/data/nb_step_train.csv --model two-head --grid benches/data/nb_step_test.csv --method nuts --chains 4 --seed 0
