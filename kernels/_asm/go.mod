module contrastive/kernels/_asm

go 1.26.8
