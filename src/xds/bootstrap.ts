import { NAMESPACE_METADATA_KEY } from "./names.js";

export interface XdsBootstrapOptions {
  /** Control-plane addresses (host:port), first one first; gRPC clients use the first and may fall back to the next. */
  addresses: readonly string[];
  /** Namespace `xds:///SERVICE` resolves in (node metadata SWITCHBOARD_NAMESPACE). */
  namespace: string;
  /** Node id the control plane sees in logs. */
  nodeId: string;
}

/**
 * The GRPC_XDS_BOOTSTRAP document of a proxyless gRPC client of Switchboard
 * (gRPC's bootstrap format, gRFC A27): plaintext channel to the control
 * plane's gRPC port, and the client's namespace in its node metadata.
 * "xds_v3" keeps older C-core clients on the v3 API (the only one served).
 */
export function createXdsBootstrap(options: XdsBootstrapOptions): object {
  return {
    xds_servers: options.addresses.map((address) => ({
      server_uri: address,
      channel_creds: [{ type: "insecure" }],
      server_features: ["xds_v3"],
    })),
    node: {
      id: options.nodeId,
      cluster: "",
      locality: {},
      metadata: { [NAMESPACE_METADATA_KEY]: options.namespace },
    },
  };
}
