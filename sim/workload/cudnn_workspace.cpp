#include "sim/workload/cudnn_workspace.h"

#include <iterator>

namespace bpsim::workload {

namespace {

/// One measured convolution: input N×C×H×W, K filters of R×R, stride, padding, groups.
struct Row {
  DType dtype;
  uint64_t n, c, h, w, k, r, stride, pad, groups;
  ConvWorkspace ws;
};

// scripts/torch_memory.py --probe-conv on one NVIDIA H200 (132 SMs): torch 2.11.0+cu130,
// cuDNN 9.19.0, cudnn.benchmark off; every distinct convolution of torchvision's resnet18 and
// resnet50 at batch 32, 64 and 256 (fp32; bf16 as autocast runs resnet50), each pass called alone after two
// warm-up calls; the last rows, torchvision vit_b_16's patch conv (with its bias, fp32 and bf16, same batches;
// --probe-conv --conv-nets vit_b_16): its cuDNN workspaces only, the gradient's copy and the bias reduction's
// staging being add_conv_bias_buffers' (framework.cpp). The raw probe, with each allocation's C++ frame, is
// tests/unit/workload/torch_conv_workspaces.jsonl; test_torch_conv.cpp checks this table
// against it row by row.
// clang-format off
const Row kRows[] = {
    {DType::fp32, 32, 3, 224, 224, 64, 7, 2, 3, 1, {122065680, 0, 134522000}},  // resnet18 conv1
    {DType::fp32, 32, 64, 56, 56, 64, 3, 1, 1, 1, {25837584, 51527696, 53592743}},  // resnet18 layer1.0.conv1
    {DType::fp32, 32, 64, 56, 56, 128, 3, 2, 1, 1, {25985040, 38830227, 43090655}},  // resnet18 layer2.0.conv1
    {DType::fp32, 32, 128, 28, 28, 128, 3, 1, 1, 1, {26279952, 26279952, 34538151}},  // resnet18 layer2.0.conv2
    {DType::fp32, 32, 64, 56, 56, 128, 1, 2, 0, 1, {0, 0, 41484432}},  // resnet18 layer2.0.downsample.0
    {DType::fp32, 32, 128, 28, 28, 256, 3, 2, 1, 1, {20447248, 20447379, 23986783}},  // resnet18 layer3.0.conv1
    {DType::fp32, 32, 256, 14, 14, 256, 3, 1, 1, 1, {15204368, 15204368, 22282847}},  // resnet18 layer3.0.conv2
    {DType::fp32, 32, 128, 28, 28, 256, 1, 2, 0, 1, {19267600, 0, 20316447}},  // resnet18 layer3.0.downsample.0
    {DType::fp32, 32, 256, 14, 14, 512, 3, 2, 1, 1, {21692815, 14352531, 14352400}},  // resnet18 layer4.0.conv1
    {DType::fp32, 32, 512, 7, 7, 512, 3, 1, 1, 1, {15859728, 15859728, 21365247}},  // resnet18 layer4.0.conv2
    {DType::fp32, 32, 256, 14, 14, 512, 1, 2, 0, 1, {9633808, 9633939, 12255376}},  // resnet18 layer4.0.downsample.0
    {DType::fp32, 32, 64, 56, 56, 64, 1, 1, 0, 1, {400, 400, 524288}},  // resnet50 layer1.0.conv1
    {DType::fp32, 32, 64, 56, 56, 256, 1, 1, 0, 1, {0, 0, 2097152}},  // resnet50 layer1.0.conv3
    {DType::fp32, 32, 256, 56, 56, 64, 1, 1, 0, 1, {400, 400, 2097152}},  // resnet50 layer1.1.conv1
    {DType::fp32, 32, 256, 56, 56, 128, 1, 1, 0, 1, {400, 400, 4194704}},  // resnet50 layer2.0.conv1
    {DType::fp32, 32, 128, 56, 56, 128, 3, 2, 1, 1, {64815120, 64815251, 73073319}},  // resnet50 layer2.0.conv2
    {DType::fp32, 32, 128, 28, 28, 512, 1, 1, 0, 1, {0, 0, 8388608}},  // resnet50 layer2.0.conv3
    {DType::fp32, 32, 256, 56, 56, 512, 1, 2, 0, 1, {103284752, 154140819, 162529935}},  // resnet50 layer2.0.downsample.0
    {DType::fp32, 32, 512, 28, 28, 128, 1, 1, 0, 1, {400, 400, 8388608}},  // resnet50 layer2.1.conv1
    {DType::fp32, 32, 512, 28, 28, 256, 1, 1, 0, 1, {400, 400, 16777216}},  // resnet50 layer3.0.conv1
    {DType::fp32, 32, 256, 28, 28, 256, 3, 2, 1, 1, {34471952, 34472083, 41550431}},  // resnet50 layer3.0.conv2
    {DType::fp32, 32, 256, 14, 14, 1024, 1, 1, 0, 1, {400, 0, 33554432}},  // resnet50 layer3.0.conv3
    {DType::fp32, 32, 512, 28, 28, 1024, 1, 2, 0, 1, {77070483, 77070483, 81265071}},  // resnet50 layer3.0.downsample.0
    {DType::fp32, 32, 1024, 14, 14, 256, 1, 1, 0, 1, {400, 400, 33554432}},  // resnet50 layer3.1.conv1
    {DType::fp32, 32, 1024, 14, 14, 512, 1, 1, 0, 1, {0, 400, 46924335}},  // resnet50 layer4.0.conv1
    {DType::fp32, 32, 512, 14, 14, 512, 3, 2, 1, 1, {32833935, 25493651, 30999039}},  // resnet50 layer4.0.conv2
    {DType::fp32, 32, 512, 7, 7, 2048, 1, 1, 0, 1, {16056336, 16056336, 16056336}},  // resnet50 layer4.0.conv3
    {DType::fp32, 32, 1024, 14, 14, 2048, 1, 2, 0, 1, {38535184, 38535315, 38535184}},  // resnet50 layer4.0.downsample.0
    {DType::fp32, 32, 2048, 7, 7, 512, 1, 1, 0, 1, {16056336, 16056336, 16056336}},  // resnet50 layer4.1.conv1
    {DType::bf16, 32, 3, 224, 224, 64, 7, 2, 3, 1, {77120528, 77323920, 83242128}},  // resnet50 conv1
    {DType::bf16, 32, 64, 56, 56, 64, 1, 1, 0, 1, {272, 0, 524288}},  // resnet50 layer1.0.conv1
    {DType::bf16, 32, 64, 56, 56, 64, 3, 1, 1, 1, {25763987, 25763987, 27681447}},  // resnet50 layer1.0.conv2
    {DType::bf16, 32, 64, 56, 56, 256, 1, 1, 0, 1, {0, 0, 2097152}},  // resnet50 layer1.0.conv3
    {DType::bf16, 32, 256, 56, 56, 64, 1, 1, 0, 1, {0, 0, 2097152}},  // resnet50 layer1.1.conv1
    {DType::bf16, 32, 256, 56, 56, 128, 1, 1, 0, 1, {0, 0, 4194304}},  // resnet50 layer2.0.conv1
    {DType::bf16, 32, 128, 56, 56, 128, 3, 2, 1, 1, {32407568, 32407699, 34767239}},  // resnet50 layer2.0.conv2
    {DType::bf16, 32, 128, 28, 28, 512, 1, 1, 0, 1, {0, 272, 8388608}},  // resnet50 layer2.0.conv3
    {DType::bf16, 32, 256, 56, 56, 512, 1, 2, 0, 1, {77070483, 77070483, 78119215}},  // resnet50 layer2.0.downsample.0
    {DType::bf16, 32, 512, 28, 28, 128, 1, 1, 0, 1, {0, 0, 8388608}},  // resnet50 layer2.1.conv1
    {DType::bf16, 32, 128, 28, 28, 128, 3, 1, 1, 1, {13139984, 13139984, 15499655}},  // resnet50 layer2.1.conv2
    {DType::bf16, 32, 512, 28, 28, 256, 1, 1, 0, 1, {0, 0, 16777216}},  // resnet50 layer3.0.conv1
    {DType::bf16, 32, 256, 28, 28, 256, 3, 2, 1, 1, {17235984, 17236115, 17235984}},  // resnet50 layer3.0.conv2
    {DType::bf16, 32, 256, 14, 14, 1024, 1, 1, 0, 1, {0, 0, 16056336}},  // resnet50 layer3.0.conv3
    {DType::bf16, 32, 512, 28, 28, 1024, 1, 2, 0, 1, {38535315, 38535315, 38535184}},  // resnet50 layer3.0.downsample.0
    {DType::bf16, 32, 1024, 14, 14, 256, 1, 1, 0, 1, {0, 0, 16056336}},  // resnet50 layer3.1.conv1
    {DType::bf16, 32, 256, 14, 14, 256, 3, 1, 1, 1, {7602192, 7602192, 7602192}},  // resnet50 layer3.1.conv2
    {DType::bf16, 32, 1024, 14, 14, 512, 1, 1, 0, 1, {0, 0, 19267600}},  // resnet50 layer4.0.conv1
    {DType::bf16, 32, 512, 14, 14, 512, 3, 2, 1, 1, {12746768, 12746899, 12746899}},  // resnet50 layer4.0.conv2
    {DType::bf16, 32, 512, 7, 7, 2048, 1, 1, 0, 1, {8028176, 8028176, 8028176}},  // resnet50 layer4.0.conv3
    {DType::bf16, 32, 1024, 14, 14, 2048, 1, 2, 0, 1, {19267600, 19267731, 19267600}},  // resnet50 layer4.0.downsample.0
    {DType::bf16, 32, 2048, 7, 7, 512, 1, 1, 0, 1, {8028176, 8028176, 8028176}},  // resnet50 layer4.1.conv1
    {DType::bf16, 32, 512, 7, 7, 512, 3, 1, 1, 1, {7929872, 7929872, 7930003}},  // resnet50 layer4.1.conv2
    {DType::fp32, 64, 3, 224, 224, 64, 7, 2, 3, 1, {244093712, 0, 262972560}},  // resnet18 conv1
    {DType::fp32, 64, 64, 56, 56, 64, 3, 1, 1, 1, {102908051, 102908051, 104972967}},  // resnet18 layer1.0.conv1
    {DType::fp32, 64, 64, 56, 56, 128, 3, 2, 1, 1, {51675152, 77365395, 81625823}},  // resnet18 layer2.0.conv1
    {DType::fp32, 64, 128, 28, 28, 128, 3, 1, 1, 1, {51970195, 51970195, 60228263}},  // resnet18 layer2.0.conv2
    {DType::fp32, 64, 64, 56, 56, 128, 1, 2, 0, 1, {0, 0, 80576656}},  // resnet18 layer2.0.downsample.0
    {DType::fp32, 64, 128, 28, 28, 256, 3, 2, 1, 1, {48103855, 39714963, 43254367}},  // resnet18 layer3.0.conv1
    {DType::fp32, 64, 256, 14, 14, 256, 3, 1, 1, 1, {36438447, 28049424, 35127903}},  // resnet18 layer3.0.conv2
    {DType::fp32, 64, 128, 28, 28, 256, 1, 2, 0, 1, {38535315, 0, 39977327}},  // resnet18 layer3.0.downsample.0
    {DType::fp32, 64, 256, 14, 14, 512, 3, 2, 1, 1, {23986192, 23986323, 23986192}},  // resnet18 layer4.0.conv1
    {DType::fp32, 64, 512, 7, 7, 512, 3, 1, 1, 1, {22282256, 22282256, 30933743}},  // resnet18 layer4.0.conv2
    {DType::fp32, 64, 256, 14, 14, 512, 1, 2, 0, 1, {19267600, 19267731, 21365007}},  // resnet18 layer4.0.downsample.0
    {DType::fp32, 64, 64, 56, 56, 64, 1, 1, 0, 1, {400, 400, 1048576}},  // resnet50 layer1.0.conv1
    {DType::fp32, 64, 64, 56, 56, 256, 1, 1, 0, 1, {400, 0, 4194704}},  // resnet50 layer1.0.conv3
    {DType::fp32, 64, 256, 56, 56, 64, 1, 1, 0, 1, {400, 400, 4194704}},  // resnet50 layer1.1.conv1
    {DType::fp32, 64, 256, 56, 56, 128, 1, 1, 0, 1, {400, 400, 8389008}},  // resnet50 layer2.0.conv1
    {DType::fp32, 64, 128, 56, 56, 128, 3, 2, 1, 1, {129040531, 129040531, 137298599}},  // resnet50 layer2.0.conv2
    {DType::fp32, 64, 128, 28, 28, 512, 1, 1, 0, 1, {400, 0, 16777216}},  // resnet50 layer2.0.conv3
    {DType::fp32, 64, 256, 56, 56, 512, 1, 2, 0, 1, {206045200, 308281491, 316670607}},  // resnet50 layer2.0.downsample.0
    {DType::fp32, 64, 512, 28, 28, 128, 1, 1, 0, 1, {400, 400, 16777216}},  // resnet50 layer2.1.conv1
    {DType::fp32, 64, 512, 28, 28, 256, 1, 1, 0, 1, {400, 400, 33554432}},  // resnet50 layer3.0.conv1
    {DType::fp32, 64, 256, 28, 28, 256, 3, 2, 1, 1, {74973615, 66584723, 73663071}},  // resnet50 layer3.0.conv2
    {DType::fp32, 64, 256, 14, 14, 1024, 1, 1, 0, 1, {400, 400, 67108864}},  // resnet50 layer3.0.conv3
    {DType::fp32, 64, 512, 28, 28, 1024, 1, 2, 0, 1, {154140819, 154140819, 162529839}},  // resnet50 layer3.0.downsample.0
    {DType::fp32, 64, 1024, 14, 14, 256, 1, 1, 0, 1, {0, 400, 67108864}},  // resnet50 layer3.1.conv1
    {DType::fp32, 64, 1024, 14, 14, 512, 1, 1, 0, 1, {0, 400, 85459503}},  // resnet50 layer4.0.conv1
    {DType::fp32, 64, 512, 14, 14, 512, 3, 2, 1, 1, {41549840, 41549971, 50201327}},  // resnet50 layer4.0.conv2
    {DType::fp32, 64, 512, 7, 7, 2048, 1, 1, 0, 1, {32112656, 32112656, 32112656}},  // resnet50 layer4.0.conv3
    {DType::fp32, 64, 1024, 14, 14, 2048, 1, 2, 0, 1, {77070483, 77070483, 77070352}},  // resnet50 layer4.0.downsample.0
    {DType::fp32, 64, 2048, 7, 7, 512, 1, 1, 0, 1, {32112656, 32112787, 40501679}},  // resnet50 layer4.1.conv1
    {DType::bf16, 64, 3, 224, 224, 64, 7, 2, 3, 1, {154190864, 154394256, 160312464}},  // resnet50 conv1
    {DType::bf16, 64, 64, 56, 56, 64, 1, 1, 0, 1, {0, 0, 1048576}},  // resnet50 layer1.0.conv1
    {DType::bf16, 64, 64, 56, 56, 64, 3, 1, 1, 1, {51454099, 51454099, 53371559}},  // resnet50 layer1.0.conv2
    {DType::bf16, 64, 64, 56, 56, 256, 1, 1, 0, 1, {272, 0, 4194576}},  // resnet50 layer1.0.conv3
    {DType::bf16, 64, 256, 56, 56, 64, 1, 1, 0, 1, {0, 272, 4194304}},  // resnet50 layer1.1.conv1
    {DType::bf16, 64, 256, 56, 56, 128, 1, 1, 0, 1, {272, 272, 8388880}},  // resnet50 layer2.0.conv1
    {DType::bf16, 64, 128, 56, 56, 128, 3, 2, 1, 1, {64520339, 64520339, 66879879}},  // resnet50 layer2.0.conv2
    {DType::bf16, 64, 128, 28, 28, 512, 1, 1, 0, 1, {0, 0, 16777216}},  // resnet50 layer2.0.conv3
    {DType::bf16, 64, 256, 56, 56, 512, 1, 2, 0, 1, {154140819, 154140819, 155714095}},  // resnet50 layer2.0.downsample.0
    {DType::bf16, 64, 512, 28, 28, 128, 1, 1, 0, 1, {0, 0, 16777216}},  // resnet50 layer2.1.conv1
    {DType::bf16, 64, 128, 28, 28, 128, 3, 1, 1, 1, {25985171, 25985171, 28344711}},  // resnet50 layer2.1.conv2
    {DType::bf16, 64, 512, 28, 28, 256, 1, 1, 0, 1, {0, 0, 33554432}},  // resnet50 layer3.0.conv1
    {DType::bf16, 64, 256, 28, 28, 256, 3, 2, 1, 1, {33292304, 33292435, 33292304}},  // resnet50 layer3.0.conv2
    {DType::bf16, 64, 256, 14, 14, 1024, 1, 1, 0, 1, {0, 0, 34210095}},  // resnet50 layer3.0.conv3
    {DType::bf16, 64, 512, 28, 28, 1024, 1, 2, 0, 1, {77070483, 77070483, 77070352}},  // resnet50 layer3.0.downsample.0
    {DType::bf16, 64, 1024, 14, 14, 256, 1, 1, 0, 1, {0, 0, 34210095}},  // resnet50 layer3.1.conv1
    {DType::bf16, 64, 256, 14, 14, 256, 3, 1, 1, 1, {14024720, 14024720, 14024720}},  // resnet50 layer3.1.conv2
    {DType::bf16, 64, 1024, 14, 14, 512, 1, 1, 0, 1, {38535315, 38535315, 38535184}},  // resnet50 layer4.0.conv1
    {DType::bf16, 64, 512, 14, 14, 512, 3, 2, 1, 1, {20774928, 20775059, 20775059}},  // resnet50 layer4.0.conv2
    {DType::bf16, 64, 512, 7, 7, 2048, 1, 1, 0, 1, {16056467, 16056336, 16056336}},  // resnet50 layer4.0.conv3
    {DType::bf16, 64, 1024, 14, 14, 2048, 1, 2, 0, 1, {38535315, 38535315, 38535184}},  // resnet50 layer4.0.downsample.0
    {DType::bf16, 64, 2048, 7, 7, 512, 1, 1, 0, 1, {16056336, 16056467, 16056336}},  // resnet50 layer4.1.conv1
    {DType::bf16, 64, 512, 7, 7, 512, 3, 1, 1, 1, {11141136, 11141136, 11141267}},  // resnet50 layer4.1.conv2
    {DType::fp32, 256, 3, 224, 224, 64, 7, 2, 3, 1, {976261904, 0, 1033675920}},  // resnet18 conv1
    {DType::fp32, 256, 64, 56, 56, 64, 3, 1, 1, 1, {411189395, 411189395, 413254311}},  // resnet18 layer1.0.conv1
    {DType::fp32, 256, 64, 56, 56, 128, 3, 2, 1, 1, {205815824, 308576403, 312836831}},  // resnet18 layer2.0.conv1
    {DType::fp32, 256, 128, 28, 28, 128, 3, 1, 1, 1, {208208147, 206110867, 214368935}},  // resnet18 layer2.0.conv2
    {DType::fp32, 256, 64, 56, 56, 128, 1, 2, 0, 1, {0, 0, 0}},  // resnet18 layer2.0.downsample.0
    {DType::fp32, 256, 128, 28, 28, 256, 3, 2, 1, 1, {155320467, 155320467, 163578535}},  // resnet18 layer3.0.conv1
    {DType::fp32, 256, 256, 14, 14, 256, 3, 1, 1, 1, {105119891, 105119891, 112198239}},  // resnet18 layer3.0.conv2
    {DType::fp32, 256, 128, 28, 28, 256, 1, 2, 0, 1, {0, 0, 162792191}},  // resnet18 layer3.0.downsample.0
    {DType::fp32, 256, 256, 14, 14, 512, 3, 2, 1, 1, {81789075, 81789075, 86115055}},  // resnet18 layer4.0.conv1
    {DType::fp32, 256, 512, 7, 7, 512, 3, 1, 1, 1, {60817555, 77595055, 69468911}},  // resnet18 layer4.0.conv2
    {DType::fp32, 256, 256, 14, 14, 512, 1, 2, 0, 1, {51904528, 77070483, 82838063}},  // resnet18 layer4.0.downsample.0
    {DType::fp32, 256, 64, 56, 56, 64, 1, 1, 0, 1, {400, 400, 4194704}},  // resnet50 layer1.0.conv1
    {DType::fp32, 256, 64, 56, 56, 256, 1, 1, 0, 1, {400, 400, 16777616}},  // resnet50 layer1.0.conv3
    {DType::fp32, 256, 256, 56, 56, 64, 1, 1, 0, 1, {400, 400, 16777616}},  // resnet50 layer1.1.conv1
    {DType::fp32, 256, 256, 56, 56, 128, 1, 1, 0, 1, {400, 400, 33554832}},  // resnet50 layer2.0.conv1
    {DType::fp32, 256, 128, 56, 56, 128, 3, 2, 1, 1, {516489491, 514392211, 522650279}},  // resnet50 layer2.0.conv2
    {DType::fp32, 256, 128, 28, 28, 512, 1, 1, 0, 1, {400, 400, 67109264}},  // resnet50 layer2.0.conv3
    {DType::fp32, 256, 256, 56, 56, 512, 1, 2, 0, 1, {822607888, 1233125523, 1241514639}},  // resnet50 layer2.0.downsample.0
    {DType::fp32, 256, 512, 28, 28, 128, 1, 1, 0, 1, {400, 400, 67108864}},  // resnet50 layer2.1.conv1
    {DType::fp32, 256, 512, 28, 28, 256, 1, 1, 0, 1, {400, 400, 134217728}},  // resnet50 layer3.0.conv1
    {DType::fp32, 256, 256, 28, 28, 256, 3, 2, 1, 1, {259260563, 259260563, 266338911}},  // resnet50 layer3.0.conv2
    {DType::fp32, 256, 256, 14, 14, 1024, 1, 1, 0, 1, {400, 400, 265290351}},  // resnet50 layer3.0.conv3
    {DType::fp32, 256, 512, 28, 28, 1024, 1, 2, 0, 1, {616562835, 616562835, 624951855}},  // resnet50 layer3.0.downsample.0
    {DType::fp32, 256, 1024, 14, 14, 256, 1, 1, 0, 1, {0, 400, 265290351}},  // resnet50 layer3.1.conv1
    {DType::fp32, 256, 1024, 14, 14, 512, 1, 1, 0, 1, {0, 400, 316670511}},  // resnet50 layer4.0.conv1
    {DType::fp32, 256, 512, 14, 14, 512, 3, 2, 1, 1, {137887891, 137887891, 146539247}},  // resnet50 layer4.0.conv2
    {DType::fp32, 256, 512, 7, 7, 2048, 1, 1, 0, 1, {128450707, 128450707, 136839599}},  // resnet50 layer4.0.conv3
    {DType::fp32, 256, 1024, 14, 14, 2048, 1, 2, 0, 1, {308281491, 308281491, 308281360}},  // resnet50 layer4.0.downsample.0
    {DType::fp32, 256, 2048, 7, 7, 512, 1, 1, 0, 1, {128450707, 128450707, 136839599}},  // resnet50 layer4.1.conv1
    {DType::bf16, 256, 3, 224, 224, 64, 7, 2, 3, 1, {616612880, 616816272, 622734480}},  // resnet50 conv1
    {DType::bf16, 256, 64, 56, 56, 64, 1, 1, 0, 1, {0, 272, 4194576}},  // resnet50 layer1.0.conv1
    {DType::bf16, 256, 64, 56, 56, 64, 3, 1, 1, 1, {205594771, 205594771, 207512231}},  // resnet50 layer1.0.conv2
    {DType::bf16, 256, 64, 56, 56, 256, 1, 1, 0, 1, {272, 272, 16777216}},  // resnet50 layer1.0.conv3
    {DType::bf16, 256, 256, 56, 56, 64, 1, 1, 0, 1, {0, 272, 16777488}},  // resnet50 layer1.1.conv1
    {DType::bf16, 256, 256, 56, 56, 128, 1, 1, 0, 1, {272, 272, 33554432}},  // resnet50 layer2.0.conv1
    {DType::bf16, 256, 128, 56, 56, 128, 3, 2, 1, 1, {257196179, 257196179, 264864423}},  // resnet50 layer2.0.conv2
    {DType::bf16, 256, 128, 28, 28, 512, 1, 1, 0, 1, {272, 272, 67108864}},  // resnet50 layer2.0.conv3
    {DType::bf16, 256, 256, 56, 56, 512, 1, 2, 0, 1, {616562835, 616562835, 620233327}},  // resnet50 layer2.0.downsample.0
    {DType::bf16, 256, 512, 28, 28, 128, 1, 1, 0, 1, {272, 272, 67108864}},  // resnet50 layer2.1.conv1
    {DType::bf16, 256, 128, 28, 28, 128, 3, 1, 1, 1, {103055507, 103055507, 110723751}},  // resnet50 layer2.1.conv2
    {DType::bf16, 256, 512, 28, 28, 256, 1, 1, 0, 1, {272, 272, 134217728}},  // resnet50 layer3.0.conv1
    {DType::bf16, 256, 256, 28, 28, 256, 3, 2, 1, 1, {129630355, 129630355, 146145959}},  // resnet50 layer3.0.conv2
    {DType::bf16, 256, 256, 14, 14, 1024, 1, 1, 0, 1, {0, 0, 131596847}},  // resnet50 layer3.0.conv3
    {DType::bf16, 256, 512, 28, 28, 1024, 1, 2, 0, 1, {308281491, 308281491, 325059183}},  // resnet50 layer3.0.downsample.0
    {DType::bf16, 256, 1024, 14, 14, 256, 1, 1, 0, 1, {0, 0, 135791215}},  // resnet50 layer3.1.conv1
    {DType::bf16, 256, 256, 14, 14, 256, 3, 1, 1, 1, {52560019, 52560019, 69075623}},  // resnet50 layer3.1.conv2
    {DType::bf16, 256, 1024, 14, 14, 512, 1, 1, 0, 1, {154140819, 154140819, 160432687}},  // resnet50 layer4.0.conv1
    {DType::bf16, 256, 512, 14, 14, 512, 3, 2, 1, 1, {68944019, 68944019, 76808943}},  // resnet50 layer4.0.conv2
    {DType::bf16, 256, 512, 7, 7, 2048, 1, 1, 0, 1, {64225427, 64225427, 64225296}},  // resnet50 layer4.0.conv3
    {DType::bf16, 256, 1024, 14, 14, 2048, 1, 2, 0, 1, {154140819, 154140819, 154140688}},  // resnet50 layer4.0.downsample.0
    {DType::bf16, 256, 2048, 7, 7, 512, 1, 1, 0, 1, {64225427, 64225427, 65274127}},  // resnet50 layer4.1.conv1
    {DType::bf16, 256, 512, 7, 7, 512, 3, 1, 1, 1, {30408851, 30408851, 38273775}},  // resnet50 layer4.1.conv2
    {DType::fp32, 32, 3, 224, 224, 768, 16, 16, 0, 1, {0, 0, 48103568}},  // vit_b_16 conv_proj
    {DType::bf16, 32, 3, 224, 224, 768, 16, 16, 0, 1, {38469648, 0, 57344144}},  // vit_b_16 conv_proj
    {DType::fp32, 64, 3, 224, 224, 768, 16, 16, 0, 1, {93061136, 0, 93061264}},  // vit_b_16 conv_proj
    {DType::bf16, 64, 3, 224, 224, 768, 16, 16, 0, 1, {73793552, 0, 92668048}},  // vit_b_16 conv_proj
    {DType::fp32, 256, 3, 224, 224, 768, 16, 16, 0, 1, {208666640, 0, 362807632}},  // vit_b_16 conv_proj
    {DType::bf16, 256, 3, 224, 224, 768, 16, 16, 0, 1, {285736976, 0, 310902928}},  // vit_b_16 conv_proj
};
// clang-format on

}  // namespace

std::optional<ConvWorkspace> cudnn_conv_workspace(const ConvShape& c, DType dtype) {
  for (const Row& r : kRows)
    if (r.dtype == dtype && r.n == c.n && r.c == c.c && r.h == c.h && r.w == c.w && r.k == c.k && r.r == c.r &&
        r.r == c.s && r.stride == c.stride && r.pad == c.pad && r.groups == c.groups)
      return r.ws;
  return std::nullopt;
}

const char* cudnn_table_provenance() {
  return "measured on an NVIDIA H200 with torch 2.11.0+cu130 and cuDNN 9.19.0 (scripts/torch_memory.py "
         "--probe-conv: ResNet-18 and ResNet-50, and ViT-B/16's patch conv, at batch 32, 64 and 256)";
}

}  // namespace bpsim::workload
