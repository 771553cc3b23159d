#!/bin/sh
# Slim the build stage's virtualenv before the runtime stage copies it. Only what no wiredesk
# command loads goes; the precompiled .pyc files stay (without them every process start, the
# CLI's, each flow run's and each extraction worker's, pays 2-4 s more to compile prefect & co).
# Sizes measured on the venv: README.md, "Docker". Usage: sh slim-venv.sh /opt/venv
set -eu
venv=$1
site=$(echo "$venv"/lib/python3*/site-packages)
before=$(du -sm "$venv" | cut -f1)

# The runtime installs nothing: no pip, setuptools or wheel (nor the venv's scripts for them).
"$venv/bin/python" -m pip uninstall -y -q pip setuptools wheel 2>/dev/null || true

# Packages' own test suites (scipy, numpy, dask, pyarrow, ...; ~70 MB with their .pyc).
find "$site" -type d \( -name tests -o -name test \) -prune -exec rm -rf {} +
rm -f "$site"/pyarrow/_pyarrow_cpp_tests.*.so

# Headers and Cython/C sources, for building extensions against these packages, not for running them.
find "$site" -type f \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.h' -o -name '*.hpp' \
  -o -name '*.c' -o -name '*.cc' -o -name '*.cpp' \) -delete
rm -rf "$site"/pyarrow/include "$site"/pyarrow/src "$site"/numpy/_core/include

# pyarrow's optional Flight RPC and S3 filesystem components (~55 MB): wiredesk writes Parquet
# to local files. Nothing else links their libraries, and pyarrow treats them as not built:
# `import pyarrow.flight` raises ImportError, pyarrow.fs lists S3FileSystem as not imported.
rm -f "$site"/pyarrow/_flight.*.so "$site"/pyarrow/libarrow_flight.so* "$site"/pyarrow/libarrow_python_flight.so* \
  "$site"/pyarrow/_s3fs.*.so "$site"/pyarrow/libarrow_s3.so*
# The wheel holds libarrow_python*.so three times over (zip files have no symlinks): link them.
for lib in "$site"/pyarrow/libarrow_python*.so.[0-9]*[0-9]; do
  case $lib in *.so.*.*) continue ;; esac  # the SONAME file (.so.NNNN) is the one to keep
  for copy in "${lib%.so.*}.so" "$lib".*; do
    if [ -f "$copy" ] && [ ! -L "$copy" ] && cmp -s "$copy" "$lib"; then ln -sf "$(basename "$lib")" "$copy"; fi
  done
done

echo "slim-venv: $venv ${before} MB -> $(du -sm "$venv" | cut -f1) MB"
