"""Training-batch augmentation on uint8 images (numpy): random shifts with zero padding (a random
crop of the padded image) and horizontal flips, drawn from numpy's generator, which the run seeds
per batch (sampling.seed_batch), so a resumed run draws what it would have."""
import numpy as np


def augment_images(images, mode):
    """``images`` (uint8 [N, C, S, S]) augmented as ``mode`` says: 'none', 'flip' (each image
    mirrored left-right with probability 1/2) or 'crop-flip' (each first shifted by up to S/8 px
    in each direction, uncovered pixels 0, then flipped as 'flip')."""
    if mode == "none":
        return images
    if mode == "crop-flip":
        images = random_shift(images, max(1, images.shape[-1] // 8))
    mirrored = np.random.random_sample(images.shape[0]) < 0.5
    return np.where(mirrored[:, None, None, None], images[..., ::-1], images)


def random_shift(images, pad):
    """Each image of ``images`` [N, C, H, W] cropped at a random place from itself padded with
    ``pad`` zeros on every side: a shift of -pad..pad pixels in each direction."""
    n, c, height, width = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dy, dx = np.random.randint(0, 2 * pad + 1, size=(2, n))
    rows = (dy[:, None] + np.arange(height))[:, None, :, None]
    cols = (dx[:, None] + np.arange(width))[:, None, None, :]
    return padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols]
