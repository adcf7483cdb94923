/**
 * GitHub deployments, so the repository page shows what runs where. One deployment per commit and
 * environment: a retried call finds the existing one instead of creating another, then adds a status.
 */
import type { DeploymentStatusInput } from '../types.js';
import { repoClient, type GithubClientOptions, type RepoClient } from './client.js';
import { toGithubFailure } from './failures.js';

export async function reportDeployment(input: DeploymentStatusInput, options: GithubClientOptions): Promise<void> {
  const client = repoClient(input.source, options);
  const where = `report ${input.state} for ${input.environment} in ${input.source.repo}`;
  try {
    const deploymentId = (await findDeployment(client, input)) ?? (await createDeployment(client, input));
    await client.octokit.repos.createDeploymentStatus({
      owner: client.owner,
      repo: client.repo,
      deployment_id: deploymentId,
      state: input.state,
      // GitHub caps descriptions at 140 characters.
      description: input.description.slice(0, 140),
      ...(input.logUrl ? { log_url: input.logUrl } : {}),
    });
  } catch (err) {
    throw toGithubFailure(err, where, client.token);
  }
}

async function findDeployment(client: RepoClient, input: DeploymentStatusInput): Promise<number | undefined> {
  const { data } = await client.octokit.repos.listDeployments({
    owner: client.owner,
    repo: client.repo,
    sha: input.commit,
    environment: input.environment,
    per_page: 100,
  });
  // The server filters already; checking again keeps us right with servers (and mocks) that don't.
  return data.find((d) => d.sha === input.commit && d.environment === input.environment)?.id;
}

async function createDeployment(client: RepoClient, input: DeploymentStatusInput): Promise<number> {
  const response = await client.octokit.repos.createDeployment({
    owner: client.owner,
    repo: client.repo,
    ref: input.commit,
    environment: input.environment,
    description: `Slipway deployment to ${input.environment}`.slice(0, 140),
    auto_merge: false,
    // The images were built and checked already; GitHub must not wait for commit statuses.
    required_contexts: [],
  });
  if (response.status !== 201 || !('id' in response.data)) {
    throw new Error(`GitHub did not create a deployment (${response.status}): ${JSON.stringify(response.data).slice(0, 200)}`);
  }
  return response.data.id;
}
