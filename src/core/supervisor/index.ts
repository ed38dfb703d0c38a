export { SupervisorService, DEFAULT_SERVICE_LEVEL_SECONDS, SERVICE_LEVEL_WINDOW_HOURS, MAX_CHART_DAYS } from './supervisor.service.ts'
export type { SupervisedQueue, SupervisorCharts, ChartRange } from './supervisor.service.ts'
