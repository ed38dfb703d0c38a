import { Type } from 'typebox'
import { NO_NUL } from '../../http/validation.ts'

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()])

export const QueuesQuery = Type.Object({
  target_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, description: 'The service-level target: answered within this many seconds of queueing (default 60)' })),
}, { additionalProperties: false })

export const SupervisorQueues = Type.Object({
  target_seconds: Type.Integer(), window_hours: Type.Integer(),
  queues: Type.Array(Type.Object({
    id: Type.Integer({ description: 'The Apps API menu id' }), name: Type.String(), channels: Type.Array(Type.String()),
    waiting: Type.Integer(), estimated_wait_seconds: Nullable(Type.Number({ description: 'null: unbounded (nobody signed in)' })),
    longest_wait_seconds: Type.Integer(), logged_in_agents: Type.Integer(), available_agents: Type.Integer(), after_hours: Type.Boolean(),
    answered: Type.Integer(), answered_within_target: Type.Integer(), unanswered: Type.Integer(),
    service_level: Nullable(Type.Number({ description: 'answered_within_target / (answered + unanswered), 0–1' })),
  })),
})

export const SupervisorAgent = Type.Object({
  id: Type.Integer({ description: 'The Apps API user id' }), name: Type.String(), email: Type.String(),
  status: Type.String(), status_kind: Type.String(), status_since: Type.String({ format: 'date-time' }),
  teams: Type.Array(Type.String()), logout_pending: Type.Boolean(),
})

export const SupervisorAgents = Type.Object({ agents: Type.Array(SupervisorAgent), statuses: Type.Array(Type.String({ description: 'Statuses a supervisor may set' })) })

export const AgentNum = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) })

export const ChangeStatusBody = Type.Object({ status: Type.String({ minLength: 1, maxLength: 100, pattern: NO_NUL }) }, { additionalProperties: false })

export const SupervisorActionResult = Type.Object({
  agent: SupervisorAgent, previous_status: Type.String(), current_status: Type.String(),
  message: Type.Union([Type.String(), Type.Null()], { description: 'Why the agent kept its status' }),
})

export const ChartsQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  to: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
}, { additionalProperties: false })

export const SupervisorCharts = Type.Object({
  from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }), bucket: Type.Union([Type.Literal('hour'), Type.Literal('day')]),
  volume: Type.Array(Type.Object({ at: Type.String({ format: 'date-time' }), channel: Type.String(), count: Type.Integer() })),
  delivery: Type.Array(Type.Object({ provider: Type.String(), status: Type.String(), count: Type.Integer() })),
  first_response: Type.Array(Type.Object({ at: Type.String({ format: 'date-time' }), sessions: Type.Integer(), average_seconds: Type.Number(), median_seconds: Type.Number(), p90_seconds: Type.Number() })),
})
