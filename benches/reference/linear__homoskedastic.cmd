machine: Intel(R) Xeon(R) Processor, 2 cores; load 9.04 9.38 9.60; 2026-12-02
bayesband fit --data benches/data/linear_train.csv --model homoskedastic --grid benches/data/linear_test.csv --method nuts --chains 4 --seed 0
