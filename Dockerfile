# The image holds only the static ssoattr binary: no registry is needed to
# build it. Build the binary first (scripts/compose.sh does both):
#   CGO_ENABLED=0 go build -o deploy/ssoattr ./cmd/ssoattr
FROM scratch
COPY deploy/ssoattr /ssoattr
USER 65534:65534
ENTRYPOINT ["/ssoattr"]
