machine: Intel(R) Xeon(R) Processor, 2 cores; load 4.77 5.56 5.36; 2026-12-01
bayesband fit --data benches/data/nb_step_train.csv --model homoskedastic --grid benches/data/nb_step_test.csv --method nuts --chains 4 --seed 0
