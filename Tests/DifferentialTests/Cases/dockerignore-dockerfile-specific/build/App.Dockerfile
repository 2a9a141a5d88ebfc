FROM fixture/busybox
COPY . /ctx/
