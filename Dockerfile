# hocba_digital on the official Odoo 18.0 image (Ubuntu 24.04, Python 3.12).
# Used by docker-compose.yml (`make docker-up`); the addon itself is mounted,
# not copied, so code changes only need a restart.
FROM odoo:18

USER root
# Vietnamese serif for the printed transcript
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-core fonts-freefont-ttf \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/hocba-requirements.txt
# The image's Python is Debian-managed (PEP 668), hence --break-system-packages.
# Our pins (cryptography, pyOpenSSL, lxml, urllib3, qrcode ...) replace the
# apt-packaged python3-* versions; apt's packages have no pip RECORD file, so
# pip cannot uninstall them: --ignore-installed installs ours into
# /usr/local/lib/python3.12/dist-packages, which comes first on sys.path.
RUN pip3 install --no-cache-dir --disable-pip-version-check \
        --break-system-packages --ignore-installed \
        -r /tmp/hocba-requirements.txt \
    && rm -f /tmp/hocba-requirements.txt \
    && python3 -c "import cryptography, OpenSSL, lxml, pyhanko, signxml; print('pins ok:', cryptography.__version__, OpenSSL.__version__, lxml.__version__)"
USER odoo
