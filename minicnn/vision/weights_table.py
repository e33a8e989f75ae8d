"""What torchvision publishes about its ImageNet checkpoints, per weights enum and entry: the file,
the evaluation transform sizes, the parameter count and the ImageNet-1K accuracies (top-1, top-5)."""

# enum name -> (default entry, {entry: (url, crop_size, resize_size, num_params, acc@1, acc@5)})
WEIGHTS = {
    "AlexNet_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/alexnet-owt-7be5be79.pth", 224, 256,
            61100840, 56.522, 79.066),
    }),
    "VGG11_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/vgg11-8a719046.pth", 224, 256,
            132863336, 69.02, 88.628),
    }),
    "VGG11_BN_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/vgg11_bn-6002323d.pth", 224, 256,
            132868840, 70.37, 89.81),
    }),
    "VGG13_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/vgg13-19584684.pth", 224, 256,
            133047848, 69.928, 89.246),
    }),
    "VGG13_BN_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/vgg13_bn-abd245e5.pth", 224, 256,
            133053736, 71.586, 90.374),
    }),
    "VGG16_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/vgg16-397923af.pth", 224, 256,
            138357544, 71.592, 90.382),
        "IMAGENET1K_FEATURES": ("https://download.pytorch.org/models/vgg16_features-amdegroot-88682ab5.pth", 224, 256,
            138357544, float("nan"), float("nan")),  # features only: no classifier accuracy
    }),
    "VGG16_BN_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/vgg16_bn-6c64b313.pth", 224, 256,
            138365992, 73.36, 91.516),
    }),
    "VGG19_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/vgg19-dcbb9e9d.pth", 224, 256,
            143667240, 72.376, 90.876),
    }),
    "VGG19_BN_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/vgg19_bn-c79401a0.pth", 224, 256,
            143678248, 74.218, 91.842),
    }),
    "ResNet18_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/resnet18-f37072fd.pth", 224, 256,
            11689512, 69.758, 89.078),
    }),
    "ResNet34_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/resnet34-b627a593.pth", 224, 256,
            21797672, 73.314, 91.42),
    }),
    "ResNet50_Weights": ("IMAGENET1K_V2", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/resnet50-0676ba61.pth", 224, 256,
            25557032, 76.13, 92.862),
        "IMAGENET1K_V2": ("https://download.pytorch.org/models/resnet50-11ad3fa6.pth", 224, 232,
            25557032, 80.858, 95.434),
    }),
    "ResNet101_Weights": ("IMAGENET1K_V2", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/resnet101-63fe2227.pth", 224, 256,
            44549160, 77.374, 93.546),
        "IMAGENET1K_V2": ("https://download.pytorch.org/models/resnet101-cd907fc2.pth", 224, 232,
            44549160, 81.886, 95.78),
    }),
    "ResNet152_Weights": ("IMAGENET1K_V2", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/resnet152-394f9c45.pth", 224, 256,
            60192808, 78.312, 94.046),
        "IMAGENET1K_V2": ("https://download.pytorch.org/models/resnet152-f82ba261.pth", 224, 232,
            60192808, 82.284, 96.002),
    }),
    "ResNeXt50_32X4D_Weights": ("IMAGENET1K_V2", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/resnext50_32x4d-7cdf4587.pth", 224, 256,
            25028904, 77.618, 93.698),
        "IMAGENET1K_V2": ("https://download.pytorch.org/models/resnext50_32x4d-1a0047aa.pth", 224, 232,
            25028904, 81.198, 95.34),
    }),
    "ResNeXt101_32X8D_Weights": ("IMAGENET1K_V2", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/resnext101_32x8d-8ba56ff5.pth", 224, 256,
            88791336, 79.312, 94.526),
        "IMAGENET1K_V2": ("https://download.pytorch.org/models/resnext101_32x8d-110c445d.pth", 224, 232,
            88791336, 82.834, 96.228),
    }),
    "ResNeXt101_64X4D_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/resnext101_64x4d-173b62eb.pth", 224, 232,
            83455272, 83.246, 96.454),
    }),
    "Wide_ResNet50_2_Weights": ("IMAGENET1K_V2", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/wide_resnet50_2-95faca4d.pth", 224, 256,
            68883240, 78.468, 94.086),
        "IMAGENET1K_V2": ("https://download.pytorch.org/models/wide_resnet50_2-9ba9bcbe.pth", 224, 232,
            68883240, 81.602, 95.758),
    }),
    "Wide_ResNet101_2_Weights": ("IMAGENET1K_V2", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/wide_resnet101_2-32ee1156.pth", 224, 256,
            126886696, 78.848, 94.284),
        "IMAGENET1K_V2": ("https://download.pytorch.org/models/wide_resnet101_2-d733dc28.pth", 224, 232,
            126886696, 82.51, 96.02),
    }),
    "GoogLeNet_Weights": ("IMAGENET1K_V1", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/googlenet-1378be20.pth", 224, 256,
            6624904, 69.778, 89.53),
    }),
    "MobileNet_V2_Weights": ("IMAGENET1K_V2", {
        "IMAGENET1K_V1": ("https://download.pytorch.org/models/mobilenet_v2-b0353104.pth", 224, 256,
            3504872, 71.878, 90.286),
        "IMAGENET1K_V2": ("https://download.pytorch.org/models/mobilenet_v2-7ebf99e0.pth", 224, 232,
            3504872, 72.154, 90.822),
    }),
}
