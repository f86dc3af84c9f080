# hep-pnn on CPU. Two targets:
#   docker build -t hep-pnn .                          # runtime: `pnn demo` by default
#   docker build --build-arg TORCH_INDEX=<PyTorch CPU wheel index> -t hep-pnn .  # smaller
#   docker build --target jupyter -t hep-pnn:jupyter . # + JupyterLab and the tutorial
#   docker run --rm hep-pnn pnn demo --signal 20000 --background 100000   # a smaller demo
#   docker run --rm -p 8888:8888 hep-pnn:jupyter       # open notebooks/tutorial.ipynb
# Every Python package comes from the pinned lock files; torch is the CPU build.

FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 --shell /bin/bash pnn
WORKDIR /opt/hep-pnn

# Dependencies first (a separate layer, rebuilt only when the lock file changes).
# TORCH_INDEX: an extra package index with PyTorch's CPU-only wheels (much smaller than the
# default build); empty = torch==2.13.0 from the default index.
ARG TORCH_INDEX=""
COPY requirements.lock ./
RUN pip install ${TORCH_INDEX:+--extra-index-url "$TORCH_INDEX"} -r requirements.lock

COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-deps --no-build-isolation . \
    && python -c "import hep_pnn.zoo; print(len(hep_pnn.zoo.list_models()), 'zoo models')"

USER 1000
WORKDIR /home/pnn
# The numba kernels compile on first use (≈ 20 s), then are cached per user.
ENV NUMBA_CACHE_DIR=/home/pnn/.cache/numba
CMD ["pnn", "demo"]


FROM runtime AS jupyter

USER 0
COPY requirements-extras.lock /opt/hep-pnn/
# The pinned extras (notebook runner, jets, distributed) plus JupyterLab, pinned here.
RUN pip install -r /opt/hep-pnn/requirements-extras.lock jupyterlab==4.6.6
COPY --chown=1000:1000 notebooks /home/pnn/notebooks
USER 1000
EXPOSE 8888
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--notebook-dir=/home/pnn/notebooks"]
