#!/usr/bin/env python3
"""The layering rule of DESIGN.md, as a test (results/ARCHITECTURE.md).

Every C/C++/CUDA file under the source folders belongs to a layer, found from its path (the
longest matching prefix of LAYERS). A file may include, with quotes, only files of its own
layer or of the layers in ALLOWED[layer]; and it may include a third-party header (angle
brackets) only where EXTERNAL says that package is a dependency of its layer's target (so
the core, formats + emulator + algorithms, needs neither HDF5 nor MPI). tests/oracle/, the
independent reference, may include only its own files, the standard library and Boost
(and GoogleTest in its own self-test).

Usage: check_layers.py ROOT            checks the tree at ROOT, prints every violation
       check_layers.py --self-test     checks a fake tree with one violation of each kind
Exit status 0 when clean, 1 on any violation.
"""
import os
import re
import sys
import tempfile

# Path prefix -> layer. The longest prefix wins (emulator/io/ before emulator/).
LAYERS = {
    "formats/": "formats",
    "emulator/": "emulator",
    "emulator/io/": "io",
    "algorithms/": "algorithms",
    "experiments/hw/": "hw",
    "experiments/model/": "model",
    "experiments/": "experiments",
    "tools/": "tools",
    "tests/oracle/": "oracle",
    "tests/": "tests",
}

# Layer -> the layers its files may include (besides its own). Mirrors the target graph:
# a layer may include exactly what its CMake target links.
ALLOWED = {
    "formats": set(),
    "emulator": {"formats"},
    "io": {"formats", "emulator"},
    "algorithms": {"formats", "emulator"},
    "hw": {"formats", "emulator", "io"},
    "model": {"formats", "emulator", "io", "algorithms"},  # io: checkpoint and text readers
    "experiments": {"formats", "emulator", "io", "algorithms", "model"},
    "tools": {"formats", "emulator", "io", "algorithms", "hw", "model", "experiments"},
    "oracle": set(),
    "tests": {"formats", "emulator", "io", "algorithms", "hw", "model", "experiments", "tools",
              "oracle"},
}

# Third-party packages (angle-bracket include prefix -> package) and the layers whose target
# depends on each. A package absent here is not checked (system headers, e.g. <unistd.h>).
PACKAGES = {
    "hdf5.h": "HDF5", "H5": "HDF5",
    "mpi.h": "MPI",
    "toml++/": "tomlplusplus",
    "nlohmann/": "nlohmann_json",
    "CLI/": "CLI11",
    "Eigen/": "Eigen", "unsupported/Eigen/": "Eigen",
    "fmt/": "fmt",
    "boost/": "Boost",
    "gtest/": "GTest", "gmock/": "GTest",
    "benchmark/": "benchmark",
}
EVERYWHERE_ABOVE_FORMATS = {"formats", "emulator", "io", "algorithms", "hw", "model",
                            "experiments", "tools", "tests"}
EXTERNAL = {
    "fmt": EVERYWHERE_ABOVE_FORMATS,
    "Eigen": {"algorithms", "model", "experiments", "tools", "tests"},
    "HDF5": {"io", "hw", "experiments", "tools", "tests"},
    "MPI": {"experiments", "tools", "tests"},
    "tomlplusplus": {"experiments", "tools", "tests"},
    "nlohmann_json": {"model", "experiments", "tools", "tests"},
    "CLI11": {"tools"},
    "Boost": {"oracle", "tests"},
    "GTest": {"tests"},
    "benchmark": {"tools"},
}

SOURCE_EXT = (".cpp", ".hpp", ".h", ".cc", ".cu", ".cuh", ".c", ".inc")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(path):
    best = None
    for prefix, layer in LAYERS.items():
        if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, layer)
    return best[1] if best else None


def package_of(header):
    best = None
    for prefix, pkg in PACKAGES.items():
        if header.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, pkg)
    return best[1] if best else None


def is_std_header(header):
    # <vector>, <cstdint>: no extension, no folder.
    return "/" not in header and "." not in header


def check_file(root, rel):
    """Returns the violations of one file as 'path:line: message' strings."""
    layer = layer_of(rel)
    if layer is None:
        return []
    out = []
    folder = os.path.dirname(rel)
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            quoted, header = m.group(1) == '"', m.group(2)
            where = f"{rel}:{n}"
            if layer == "oracle":
                own = quoted and (header.startswith("tests/oracle/") or
                                  os.path.exists(os.path.join(root, folder, header)) and
                                  layer_of(os.path.normpath(os.path.join(folder, header))) ==
                                  "oracle")
                self_test = "test" in os.path.basename(rel) and package_of(header) == "GTest"
                if not (own or (not quoted and (is_std_header(header) or
                                                package_of(header) == "Boost" or self_test))):
                    out.append(f"{where}: the oracle includes {m.group(0).split('include')[1].strip()}: only its "
                               "own files, the standard library and Boost are allowed")
                continue
            if quoted:
                # Quoted includes are relative to the repository root (mx_options) or, for a
                # few files, to their own folder.
                target = header
                if not layer_of(target) and os.path.exists(os.path.join(root, folder, header)):
                    target = os.path.normpath(os.path.join(folder, header))
                inc = layer_of(target)
                if inc is None or inc == layer:
                    continue
                if inc not in ALLOWED[layer]:
                    out.append(f"{where}: {layer} includes \"{header}\" of layer {inc} "
                               f"(allowed: {', '.join(sorted(ALLOWED[layer])) or 'none'})")
            else:
                pkg = package_of(header)
                if pkg and layer not in EXTERNAL[pkg]:
                    out.append(f"{where}: {layer} includes <{header}> ({pkg}), which its "
                               "target does not link")
    return out


def check_tree(root):
    violations = []
    for top in sorted({p.split("/")[0] for p in LAYERS}):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(SOURCE_EXT):
                    rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                    violations += check_file(root, rel)
    return violations


def self_test():
    """A fake tree with one clean file and one violation of each kind; all must be found."""
    files = {
        "formats/ok.hpp": '#include <vector>\n#include <fmt/format.h>\n',
        "emulator/ok.cpp": '#include "formats/ok.hpp"\n#include "emulator/x.hpp"\n',
        "emulator/io/ok.cpp": '#include "emulator/ok.hpp"\n#include <hdf5.h>\n',
        "tests/oracle/ok.cpp": '#include "tests/oracle/ok.hpp"\n#include <boost/x.hpp>\n'
                               '#include <cstdint>\n',
        "tests/oracle/ok.hpp": '#include <vector>\n',
        # violations
        "formats/up.cpp": '#include "emulator/dot.hpp"\n',            # formats -> emulator
        "emulator/up.cpp": '#include "emulator/io/tensor_io.hpp"\n',  # emulator -> io
        "emulator/h5.cpp": '#include <hdf5.h>\n',                     # HDF5 in the core
        "algorithms/up.cpp": '#include "experiments/config.hpp"\n',   # algorithms -> experiments
        "experiments/model/mpi.cpp": '#include <mpi.h>\n',            # MPI in mx::model
        "experiments/hw/cli.cpp": '#include "tools/mxlab/commands.hpp"\n',  # hw -> tools
        "tests/oracle/bad.cpp": '#include "formats/codec.hpp"\n',     # oracle -> library
        "tests/oracle/bad2.cpp": '#include <fmt/format.h>\n',         # oracle -> fmt
    }
    expected = {"formats/up.cpp", "emulator/up.cpp", "emulator/h5.cpp", "algorithms/up.cpp",
                "experiments/model/mpi.cpp", "experiments/hw/cli.cpp", "tests/oracle/bad.cpp",
                "tests/oracle/bad2.cpp"}
    with tempfile.TemporaryDirectory() as root:
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
        found = check_tree(root)
    flagged = {v.split(":")[0] for v in found}
    ok = flagged == expected and len(found) == len(expected)
    for v in found:
        print("  caught:", v)
    if not ok:
        print(f"self-test FAILED: expected violations in {sorted(expected)}, "
              f"got {sorted(flagged)}")
    return 0 if ok else 1


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) != 2:
        print(__doc__)
        return 2
    violations = check_tree(argv[1])
    for v in violations:
        print(v)
    print(f"layering: {len(violations)} violation(s)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
