/** What a dry run shows of a job's tasks: the first few, each with its name, parameters, argv and resources. */
import { arrayBaseOf, type NormalizedJobInfo, type TaskParams } from '../model/job.js';
import { groupResourcesOf, RESOURCE_FIELDS, type TaskResources } from '../model/resources.js';

export interface TaskPreview {
  index: number;
  name?: string;
  params?: TaskParams;
  argv: string[];
  /** The resources the task asks for (its resource set's, or the job's own fields). */
  resources: TaskResources;
}

export function previewTasks(info: NormalizedJobInfo, count: number): TaskPreview[] {
  const own = Object.fromEntries(RESOURCE_FIELDS.filter((f) => info[f] !== undefined).map((f) => [f, info[f]])) as TaskResources;
  return info.argv.slice(0, count).map((argv, i) => ({
    index: i + arrayBaseOf(info),
    ...(info.taskNames ? { name: info.taskNames[i] } : {}),
    ...(info.params?.[i] ? { params: info.params[i] } : {}),
    argv,
    resources: groupResourcesOf(info.resourceGroups, i + arrayBaseOf(info)) ?? own,
  }));
}
