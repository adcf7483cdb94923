/**
 * Search attributes Slipway sets so the Temporal UI can filter "all production promotions of
 * todoapp". The dev-server tooling registers them; a production namespace needs them created once
 * (`temporal operator search-attribute create`).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SA_APP = defineSearchAttributeKey('SlipwayApp', SearchAttributeType.KEYWORD);
export const SA_ENVIRONMENT = defineSearchAttributeKey('SlipwayEnvironment', SearchAttributeType.KEYWORD);
export const SA_VERSION = defineSearchAttributeKey('SlipwayVersion', SearchAttributeType.KEYWORD);
export const SA_STAGE = defineSearchAttributeKey('SlipwayStage', SearchAttributeType.KEYWORD);

/** Name → type, as `temporal server start-dev --search-attribute` wants them. */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword'> = {
  SlipwayApp: 'Keyword',
  SlipwayEnvironment: 'Keyword',
  SlipwayVersion: 'Keyword',
  SlipwayStage: 'Keyword',
};
