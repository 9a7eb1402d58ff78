/**
 * A Model Context Protocol server for the `call: mcp` scenarios, on the official SDK: a few
 * tools, a resource and a prompt. `startMcpHttpServer` serves it over streamable HTTP on
 * 127.0.0.1 (stateless, one server per request); run as a script, it serves it over stdio.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export function buildMcpServer(): McpServer {
  const server = new McpServer({ name: 'meshflow-test-server', version: '1.0.0' });
  server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
    structuredContent: { sum: a + b },
  }));
  server.registerTool('refuse', { description: 'Always fails' }, () => ({ isError: true, content: [{ type: 'text', text: 'the answer is no' }] }));
  server.registerTool('stall', { description: 'Never answers' }, () => new Promise<never>(() => undefined));
  server.registerResource('greeting', 'test://greeting', { mimeType: 'text/plain' }, (uri) => ({ contents: [{ uri: uri.href, text: 'hello from MCP' }] }));
  server.registerPrompt('summarize', { argsSchema: { topic: z.string() } }, ({ topic }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Summarize ${topic}` } }],
  }));
  return server;
}

export interface McpHttpServer {
  endpoint: string;
  /** JSON-RPC methods received, in order, with the authorization header each came with. */
  seen: { method: string; authorization?: string }[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

export async function startMcpHttpServer(): Promise<McpHttpServer> {
  const seen: McpHttpServer['seen'] = [];
  const http: Server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      const parsed = await body(req);
      for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
        const method = (message as { method?: unknown } | undefined)?.method;
        if (typeof method === 'string') seen.push({ method, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      }
      const server = buildMcpServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, parsed);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

// `node --import tsx mcp-server.ts`: the same server over stdio.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!) && process.argv.includes('--stdio')) {
  void buildMcpServer().connect(new StdioServerTransport());
}
