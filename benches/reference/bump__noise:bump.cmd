machine: Intel(R) Xeon(R) Processor, 2 cores; load 7.55 7.22 6.51; 2026-12-02
bayesband fit --data benches/data/bump_train.csv --model noise:bump --grid benches/data/bump_test.csv --method nuts --chains 4 --seed 0
