machine: Intel(R) Xeon(R) Processor, 2 cores; load 4.97 4.43 2.50; 2026-12-01
bayesband fit --data benches/data/nb_exp_train.csv --model homoskedastic --grid benches/data/nb_exp_test.csv --method nuts --chains 4 --seed 0
