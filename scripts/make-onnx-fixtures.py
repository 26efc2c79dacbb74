"""Makes the tiny ONNX graphs in crates/testkit/data/models (committed; the tests do not run this).

Each is one 1x1 convolution from the three colour channels to one mask channel, at a family's
input size, so the tests can import, vet and run a model of that family in milliseconds:
- tiny-u2net.onnx:    1x3x320x320   -> 1x1x320x320 (u2net family: min-max normalised after)
- tiny-birefnet.onnx: 1x3x1024x1024 -> 1x1x1024x1024 logits (birefnet family: sigmoid after)
The weights are BIREFNET_W / BIREFNET_B below; crates/infer/tests/birefnet_reference.py uses the
same numbers.  Needs: pip install onnx==1.19.1
"""
import sys

import onnx
from onnx import TensorProto, helper

BIREFNET_W = [1.5, -2.0, 0.75]
BIREFNET_B = 0.25


def conv_graph(name, side, weights, bias):
    w = helper.make_tensor("w", TensorProto.FLOAT, [1, 3, 1, 1], weights)
    b = helper.make_tensor("b", TensorProto.FLOAT, [1], [bias])
    node = helper.make_node("Conv", ["input", "w", "b"], ["output"])
    graph = helper.make_graph(
        [node],
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, side, side])],
        initializer=[w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


out = sys.argv[1] if len(sys.argv) > 1 else "crates/testkit/data/models"
onnx.save(conv_graph("tiny-u2net", 320, [0.3, 0.5, 0.2], 0.0), f"{out}/tiny-u2net.onnx")
onnx.save(conv_graph("tiny-birefnet", 1024, BIREFNET_W, BIREFNET_B), f"{out}/tiny-birefnet.onnx")
