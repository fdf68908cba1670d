machine: Intel(R) Xeon(R) Processor, 2 cores; load 5.50 5.25 3.65; 2026-12-01
bayesband fit --data benches/data/nb_exp_train.csv --model two-head --grid benches/data/nb_exp_test.csv --method nuts --chains 4 --seed 0
