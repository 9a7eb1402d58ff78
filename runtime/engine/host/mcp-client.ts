/**
 * The `mcp` port on the official TypeScript SDK (@modelcontextprotocol/sdk): a connection
 * per call — streamable HTTP or a stdio child process — which the SDK initializes, one
 * request, then close. Loaded on first use, so runs without `call: mcp` never import it.
 */
import type { McpPort, McpRequest } from '../ports.ts';
import type { Json } from '../types.ts';

const CLIENT = { name: 'meshflow', version: '1.0.0' };

type Sdk = {
  Client: typeof import('@modelcontextprotocol/sdk/client/index.js').Client;
  StreamableHTTPClientTransport: typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js').StreamableHTTPClientTransport;
  StdioClientTransport: typeof import('@modelcontextprotocol/sdk/client/stdio.js').StdioClientTransport;
  getDefaultEnvironment: typeof import('@modelcontextprotocol/sdk/client/stdio.js').getDefaultEnvironment;
};

let loading: Promise<Sdk> | undefined;

function sdk(): Promise<Sdk> {
  loading ??= Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
  ]).then(([client, http, stdio]) => ({
    Client: client.Client,
    StreamableHTTPClientTransport: http.StreamableHTTPClientTransport,
    StdioClientTransport: stdio.StdioClientTransport,
    getDefaultEnvironment: stdio.getDefaultEnvironment,
  }));
  return loading;
}

export class SdkMcpClient implements McpPort {
  /** `fetch` carries the HTTP transport's requests: pass one that applies an egress policy. */
  constructor(private readonly options: { fetch?: typeof fetch } = {}) {}

  async call(request: McpRequest, signal: AbortSignal): Promise<Json> {
    const { Client, StreamableHTTPClientTransport, StdioClientTransport, getDefaultEnvironment } = await sdk();
    const client = new Client(request.client ?? CLIENT);
    const transport =
      'http' in request.transport
        ? new StreamableHTTPClientTransport(new URL(request.transport.http.endpoint), {
            requestInit: { headers: request.transport.http.headers ?? {} },
            ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
          })
        : new StdioClientTransport({
            command: request.transport.stdio.command,
            args: request.transport.stdio.arguments ?? [],
            // The server gets the SDK's safe defaults (PATH, HOME…) and what the workflow sets, not the runtime's secrets.
            env: { ...getDefaultEnvironment(), ...request.transport.stdio.environment },
            stderr: 'ignore',
          });
    const options = { signal };
    try {
      await client.connect(transport, options);
      const params = request.parameters as never;
      let result: unknown;
      switch (request.method) {
        case 'tools/list':
          result = await client.listTools(params, options);
          break;
        case 'tools/call':
          result = await client.callTool(params, undefined, options);
          break;
        case 'prompts/list':
          result = await client.listPrompts(params, options);
          break;
        case 'prompts/get':
          result = await client.getPrompt(params, options);
          break;
        case 'resources/list':
          result = await client.listResources(params, options);
          break;
        case 'resources/read':
          result = await client.readResource(params, options);
          break;
        case 'resources/templates/list':
          result = await client.listResourceTemplates(params, options);
          break;
        default:
          throw new Error(`"${request.method}" is not an MCP method this runtime sends`);
      }
      return JSON.parse(JSON.stringify(result)) as Json;
    } finally {
      await client.close().catch(() => undefined);
    }
  }
}
