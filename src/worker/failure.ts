// What a failed job means for the worker that ran it.

/** Whether a failed job leaves its worker unfit for the next: an error of the CUDA runtime on a GPU
 *  worker (ERR_NATIVE: a failed launch or call, which can leave the device unusable to the process).
 *  An option, a model or device memory the engine refused cleanly, or an error of the task's own
 *  code, leaves the device as it was. */
export function endsWorker(device: 'cpu' | 'cuda', code: string | undefined): boolean {
  return device === 'cuda' && code === 'ERR_NATIVE';
}
