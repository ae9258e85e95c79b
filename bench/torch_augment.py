"""Time torchvision's SimCLR augmentation: the side-by-side of
`contrastive bench augment`, printing the same JSON.

    /usr/bin/python3 bench/torch_augment.py --size 32 --data ../shared/datasets/cifar10-png.tgz
    /usr/bin/python3 bench/torch_augment.py --size 224            # 500x375 noise images

It measures how many source images per second a DataLoader (batch 256,
--workers processes, default 2) turns into two stacked SimCLR views, with
the images already decoded in memory (decoding is not timed, as in the Go
benchmark). The pipeline is the paper's, as augment.SimCLR builds it:
RandomResizedCrop(size, (0.08, 1)), flip, ColorJitter(0.8s, 0.8s, 0.8s,
0.2s) with p = 0.8, grayscale 0.2, blur with p = 0.5 (kernel 10% of the
side, 224 only), normalise; s = 0.5 at 32 and 1 at 224.

--folder DIR times decoding too, as `contrastive bench augment --data DIR`
(--decode auto) does: a DataLoader over the image files of DIR (any
depth), each read and decoded by PIL (Image.open(f).convert("RGB"), the
loader of torchvision's ImageFolder) on every use, then the views:

    /usr/bin/python3 bench/torch_augment.py --size 224 --folder /work/data/imagenette/train --pipeline pil

--pipeline pil runs it on PIL images (the usual setup; PIL resizes with
antialiasing), --pipeline tensor on float CHW tensors (the functional ops
augment is tested against), --pipeline both (default) runs both.
"""
import argparse
import io
import json
import tarfile
import time

import numpy as np
import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T

CIFAR10_MEAN = [0.4914, 0.4822, 0.4465]
CIFAR10_STD = [0.2470, 0.2435, 0.2616]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def simclr(size, tensor_input):
    small = size <= 64
    s = 0.5 if small else 1.0
    steps = [T.RandomResizedCrop(size, scale=(0.08, 1.0)), T.RandomHorizontalFlip(),
             T.RandomApply([T.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)], p=0.8), T.RandomGrayscale(p=0.2)]
    if not small:
        k = size // 10
        k += 1 - k % 2
        steps.append(T.RandomApply([T.GaussianBlur(k, sigma=(0.1, 2.0))], p=0.5))
    if not tensor_input:
        steps.append(T.ToTensor())
    steps.append(T.Normalize(CIFAR10_MEAN if small else IMAGENET_MEAN, CIFAR10_STD if small else IMAGENET_STD))
    return T.Compose(steps)


class TwoViews(Dataset):
    def __init__(self, images, transform, length):
        self.images, self.transform, self.length = images, transform, length

    def __len__(self):
        return self.length

    def __getitem__(self, i):
        img = self.images[i % len(self.images)]
        return self.transform(img), self.transform(img)


class FolderTwoViews(Dataset):
    """ImageFolder's loading: the file is opened and decoded on every use."""

    def __init__(self, files, transform, length):
        self.files, self.transform, self.length = files, transform, length

    def __len__(self):
        return self.length

    def __getitem__(self, i):
        with open(self.files[i % len(self.files)], "rb") as f:
            img = Image.open(f).convert("RGB")
        return self.transform(img), self.transform(img)


def folder_files(root):
    import os
    exts = (".jpg", ".jpeg", ".png", ".gif", ".webp")
    out = []
    for d, _, fs in os.walk(root):
        out += [os.path.join(d, f) for f in fs if f.lower().endswith(exts)]
    out.sort()
    rng = np.random.default_rng(1)
    rng.shuffle(out)
    for f in out:  # warm the page cache, as the Go side does
        with open(f, "rb") as fh:
            fh.read()
    return out


def load_cifar(path, n):
    imgs = []
    with tarfile.open(path) as tf:
        for m in tf:
            if m.isfile() and "/train/" in m.name and m.name.endswith(".png"):
                imgs.append(Image.open(io.BytesIO(tf.extractfile(m).read())).convert("RGB"))
                if len(imgs) == n:
                    break
    return imgs


def noise_images(n, h, w):
    rng = np.random.default_rng(1)
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for _ in range(n)]


def worker_init(_):
    torch.set_num_threads(1)


def run(images, size, pipeline, workers, n, batch, files=None):
    tensor_input = pipeline == "tensor"
    if files is not None:
        ds = FolderTwoViews(files, simclr(size, False), n + batch)
    else:
        if tensor_input:
            images = [T.functional.to_tensor(im) for im in images]
        ds = TwoViews(images, simclr(size, tensor_input), n + batch)  # first batch is warm-up
    dl = DataLoader(ds, batch_size=batch, num_workers=workers, worker_init_fn=worker_init, drop_last=True)
    it = iter(dl)
    next(it)
    start = time.perf_counter()
    done = 0
    for a, b in it:
        done += a.shape[0]
    sec = time.perf_counter() - start
    return done, sec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--data", default="", help="cifar10-png.tgz (size 32); default: noise images")
    ap.add_argument("--n", type=int, default=0, help="images to time (default 10240 at 32, 1024 at 224)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--pipeline", default="both", choices=["pil", "tensor", "both"])
    ap.add_argument("--folder", default="", help="image folder: decode every image from its file on every use (PIL only)")
    args = ap.parse_args()
    n = args.n or (10240 if args.size <= 64 else 1024)
    files = None
    if args.folder:
        files, images, source = folder_files(args.folder), None, args.folder + " (decoded from files)"
        args.pipeline = "pil"
    elif args.data:
        images, source = load_cifar(args.data, 2048), args.data
    elif args.size <= 64:
        images, source = noise_images(512, 32, 32), "noise 32x32"
    else:
        images, source = noise_images(64, 375, 500), "noise 500x375"
    pipelines = ["pil", "tensor"] if args.pipeline == "both" else [args.pipeline]
    for p in pipelines:
        done, sec = run(images, args.size, p, args.workers, n, args.batch, files)
        print(json.dumps({"bench": "augment", "impl": "torchvision-" + p + ("-decode" if files else ""), "preset": "simclr", "size": args.size,
                          "views": 2, "images": done, "seconds": round(sec, 3),
                          "images_per_sec": round(done / sec, 1), "workers": args.workers, "source": source,
                          "torch": torch.__version__, "torchvision": torchvision.__version__}))


if __name__ == "__main__":
    main()
