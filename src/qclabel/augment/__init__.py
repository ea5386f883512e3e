"""Balance and augmentation: from a 99 %-pass line to a trainable dataset, reproducibly.

    build_balance(manifest, config)            # augment.balance: the report
    augment_version(project, "v1", "default", "v1-aug", user, to_ratio=5, seed=1)

OpenCV and NumPy do the pixel work (one 3x3 matrix per image, `cv2.warpAffine` /
`warpPerspective`); labels go through the same matrix via the object kinds'
`transformed` hooks (core.kinds). No augmentation library is used: see the README.
"""
