machine: Intel(R) Xeon(R) Processor, 2 cores; load 7.00 6.84 5.35; 2026-12-01
bayesband fit --data benches/data/nb_exp_train.csv --model noise:exponential --grid benches/data/nb_exp_test.csv --method nuts --chains 4 --seed 0
