"""BiRefNet's own preprocessing (torchvision Resize((1024, 1024)) bilinear, ToTensor, ImageNet
Normalize) and postprocessing (sigmoid), run in numpy on the tiny test graph (a 1x1 convolution
with the weights of scripts/make-onnx-fixtures.py). Writes the 1024x1024 mask as a PNG.
Usage: birefnet_reference.py IMAGE OUT.png"""
import sys

import numpy as np
from PIL import Image

W = np.array([1.5, -2.0, 0.75], dtype=np.float32)
B = np.float32(0.25)
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

img = Image.open(sys.argv[1]).convert("RGB").resize((1024, 1024), Image.BILINEAR)
x = (np.asarray(img, dtype=np.float32) / 255.0 - MEAN) / STD  # H x W x 3
logits = x @ W + B
alpha = 1.0 / (1.0 + np.exp(-logits))
Image.fromarray((alpha * 255.0).astype(np.uint8), mode="L").save(sys.argv[2])
