machine: Intel(R) Xeon(R) Processor, 2 cores; load 9.33 9.87 9.79; 2026-12-02
bayesband fit --data benches/data/linear_train.csv --model two-head --grid benches/data/linear_test.csv --method nuts --chains 4 --seed 0
