machine: Intel(R) Xeon(R) Processor, 2 cores; 2026-12-02
bayesband fit --data benches/data/linear_train.csv --model noise:linear --grid benches/data/linear_test.csv --method nuts --chains 4 --seed 0
