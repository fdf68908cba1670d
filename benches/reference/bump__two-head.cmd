machine: Intel(R) Xeon(R) Processor, 2 cores; load 6.76 6.95 5.65; 2026-12-01
bayesband fit --data benches/data/bump_train.csv --model two-head --grid benches/data/bump_test.csv --method nuts --chains 4 --seed 0
