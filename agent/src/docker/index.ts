export { DockerRuntime, type DockerRuntimeOptions } from './runtime.js';
export { cloneForImage, type NetworkAttachment, type ReplacementSpec } from './clone.js';
export {
  readContainerInspect,
  readImageInspect,
  type ContainerInspect,
  type ImageInspect,
} from './inspect.js';
