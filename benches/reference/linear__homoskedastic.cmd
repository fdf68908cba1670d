machine: AMD EPYC, 2 cores; load 8.78 8.16 8.90; 2026-12-02
bayesband fit --data benches/data/linear_train.csv --model homoskedastic --grid benches/data/linear_test.csv --method nuts --chains 4 --seed 0
