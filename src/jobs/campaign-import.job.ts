import { CAMPAIGN_IMPORT_JOB, type CampaignsService } from '../core/contact-center/index.ts'
import type { JobDefinition } from './types.ts'

/**
 * `cc.campaign_import`: imports a campaign contact file (K3) in batches, recording progress and
 * per-row errors on the import row that K4 reads. Safe to run again: it resumes after the last batch.
 */
export function campaignImportJob(deps: { campaigns: CampaignsService }): JobDefinition<typeof CAMPAIGN_IMPORT_JOB.payload> {
  return {
    ...CAMPAIGN_IMPORT_JOB,
    retryLimit: 5,
    retryDelaySeconds: 5,
    retryBackoff: true,
    expireInSeconds: 1800,
    concurrency: 1,
    handle: ({ tenantId, jobNum }) => deps.campaigns.runImport(tenantId, jobNum),
  }
}
