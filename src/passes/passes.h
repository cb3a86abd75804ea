// Factories of the individual passes (one file each); pipeline.cpp puts them in order.
#pragma once

#include <memory>

#include "passes/pass.h"

namespace hwopt::passes {

std::unique_ptr<Pass> make_decompose_qlinear();
std::unique_ptr<Pass> make_decompose_integer();
std::unique_ptr<Pass> make_fold_qdq();
std::unique_ptr<Pass> make_fold_constants();
std::unique_ptr<Pass> make_infer_shapes();
std::unique_ptr<Pass> make_eliminate_identity();
std::unique_ptr<Pass> make_eliminate_noop_reshape();
std::unique_ptr<Pass> make_eliminate_transpose_pairs();
std::unique_ptr<Pass> make_eliminate_cast_chains();
std::unique_ptr<Pass> make_eliminate_dead_nodes();
std::unique_ptr<Pass> make_eliminate_common_subexpressions();
std::unique_ptr<Pass> make_fuse_conv_batchnorm();
std::unique_ptr<Pass> make_fuse_gemm_batchnorm();
std::unique_ptr<Pass> make_fuse_conv_scale();
std::unique_ptr<Pass> make_fuse_conv_add_bias();
std::unique_ptr<Pass> make_fuse_layer_norm();
std::unique_ptr<Pass> make_fuse_gelu();
std::unique_ptr<Pass> make_fuse_attention();
std::unique_ptr<Pass> make_fuse_matmul_add();
std::unique_ptr<Pass> make_fuse_conv_activation();
std::unique_ptr<Pass> make_fuse_conv_transpose_activation();
std::unique_ptr<Pass> make_fuse_pad_conv();
std::unique_ptr<Pass> make_fuse_conv_depthwise();
std::unique_ptr<Pass> make_fuse_conv_post_linear();
std::unique_ptr<Pass> make_fuse_elementwise_chain();

}  // namespace hwopt::passes
