// Ports both halves agree on: the gateway's VIP forwards to them, the cluster listens on them.

/** Every K3s server's API (the VIP forwards `apiPort` to it). */
export const K3S_SERVER_PORT = 6443;
/** Traefik's HTTP and HTTPS entry points on the ingress address (the VIP forwards `httpPort`/`httpsPort`). */
export const INGRESS_HTTP_PORT = 80;
export const INGRESS_HTTPS_PORT = 443;
