import { AppError, NotFoundError } from '../errors.ts'
import type { PeopleService } from '../people/index.ts'
import type { Recipient, TemplatesService } from '../templates/index.ts'
import type { Tenant } from '../tenants/index.ts'
import type { DirectoryService, DirectoryViewer, Individual } from './directory.service.ts'
import type { Organizations } from './organizations.ts'

/** What #139 (`validate-multicast-params`) is given. */
export interface MulticastParams {
  readonly templateId: string
  readonly data: Record<string, unknown>
  readonly individualId: string
  readonly organizationId: string
}

/** The services a multicast's parameters are checked with. */
export interface MulticastParamsDeps {
  readonly directory: DirectoryService
  readonly organizations: Organizations
  readonly people: PeopleService
  readonly templates: TemplatesService
}

/** The recipient of a template as the individual is known: preferred name (else first and last), their language. */
export async function recipientOf(people: PeopleService, tenant: Tenant, individual: Individual): Promise<Recipient> {
  const person = await people.getByRef(tenant, individual.id)
  const full = [individual.firstName, individual.lastName].filter((s) => s !== null && s.trim() !== '').join(' ')
  return { name: individual.preferredName ?? (full === '' ? null : full), language: person.languageType }
}

/**
 * #139: would a multicast of `templateId` with `data` from this user to this individual go? The
 * user (the sender, of the URL), the organisation and the individual must be the tenant's and the
 * viewer's to see (NotFoundError `resource_not_found`, pointing at the body member). Then the
 * template is looked up, the data checked against its data schema and every part rendered for the
 * individual, nothing sent: `{success: true}`, or `{success: false}` with what stops it in `info`
 * (an unknown template, the data's problems, a part that does not render).
 */
export async function validateMulticastParams(deps: MulticastParamsDeps, tenant: Tenant, userId: string, params: MulticastParams, viewer: DirectoryViewer): Promise<{ success: boolean; info: string }> {
  await deps.directory.user(tenant, userId, viewer)
  await deps.organizations.find(tenant, params.organizationId, { pointer: '/organization-id' })
  const individual = await deps.directory.individual(tenant, params.individualId, viewer).catch((err: unknown) => {
    if (err instanceof NotFoundError) throw new NotFoundError('resource_not_found', `No individuals with id ${params.individualId}`, { type: 'individuals', id: params.individualId, pointer: '/individual-id' })
    throw err
  })
  const recipient = await recipientOf(deps.people, tenant, individual)
  try {
    const rendered = await deps.templates.render(undefined, tenant, params.templateId, params.data, recipient)
    const parts = [rendered.push && 'push', rendered.sms !== undefined && 'sms', rendered.email && 'email', rendered.inApp && 'in-app'].filter(Boolean)
    return { success: true, info: `template ${params.templateId} renders ${parts.join(', ')} in ${rendered.language} for this individual` }
  } catch (err) {
    if (!(err instanceof AppError)) throw err
    if (err.code === 'template_not_found') return { success: false, info: `unknown template ${JSON.stringify(params.templateId)}` }
    if (err.code === 'invalid_template_data' || err.code === 'template_render_failed') {
      const { errors } = err.details as { errors: string[] }
      const head = err.code === 'invalid_template_data' ? `data does not match the data-schema of template ${params.templateId}` : `template ${params.templateId} does not render`
      return { success: false, info: `${head}: ${errors.join('; ')}` }
    }
    throw err
  }
}
