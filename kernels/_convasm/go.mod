module contrastive/kernels/_convasm

go 1.26.8
