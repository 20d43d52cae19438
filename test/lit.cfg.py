# -*- Python -*- lit configuration of the infir2 .mlir tests.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "infir2"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.infir2_obj_root, "test")

# A variable captured under one CHECK-LABEL must not leak into the next.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["infir2-opt", "infir2-translate", "infir2-demo", "infir2c"], [config.infir2_tools_dir]
)
