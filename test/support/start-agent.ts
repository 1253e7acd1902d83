import { createAgent } from "@switchboard/client";
import type { Agent, AgentOptions } from "@switchboard/client";

/** createAgent + start(): resolves once the instance is registered (the SDK offers one way, this is the tests' shorthand). */
export async function startAgent(options: AgentOptions, signal?: AbortSignal): Promise<Agent> {
  const agent = createAgent(options);
  await agent.start(signal);
  return agent;
}
