machine: Intel(R) Xeon(R) Processor, 2 cores; load 9.66 9.37 7.98; 2026-12-02
bayesband fit --data benches/data/nb_step_train.csv --model noise:step --grid benches/data/nb_step_test.csv --method nuts --chains 4 --seed 0
