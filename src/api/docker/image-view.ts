/** Image records → Docker's wire shapes: `GET /images/json` items and `GET /images/{name}/json`. */
import { healthcheckToJson } from '../../image/config-format.js';
import { familiarName } from '../../image/reference.js';
import type { ImageRecord } from '../../model/image.js';
import { unixSeconds } from '../../util/time.js';

/** `repoTags` are the familiar names (`busybox:latest`). */
export function toDockerImageSummary(img: ImageRecord, repoTags: string[], containers: number) {
  return {
    Containers: containers,
    Created: unixSeconds(img.created),
    Id: img.id,
    Labels: Object.keys(img.config.config.labels).length ? img.config.config.labels : null,
    ParentId: '',
    RepoDigests: img.repoDigests.length ? img.repoDigests.map(familiarName) : repoTags.length ? [] : ['<none>@<none>'],
    // dockerd: an untagged image with a digest lists no tags; one with neither gets `<none>` placeholders.
    RepoTags: repoTags.length ? repoTags : img.repoDigests.length ? [] : ['<none>:<none>'],
    SharedSize: -1,
    Size: img.size,
    VirtualSize: img.size,
  };
}

export function toDockerImageInspect(img: ImageRecord, repoTags: string[]) {
  const rc = img.config.config;
  return {
    Id: img.id,
    RepoTags: repoTags,
    RepoDigests: img.repoDigests.map(familiarName),
    Parent: '',
    Comment: img.comment,
    Created: img.created,
    Container: '',
    ContainerConfig: null,
    DockerVersion: '',
    Author: img.config.author,
    Config: {
      Hostname: '',
      Domainname: '',
      User: rc.user,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ...(rc.exposedPorts.length ? { ExposedPorts: Object.fromEntries(rc.exposedPorts.map((p) => [p, {}])) } : {}),
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: rc.env.length ? rc.env : null,
      Cmd: rc.cmd,
      Image: '',
      Volumes: rc.volumes.length ? Object.fromEntries(rc.volumes.map((v) => [v, {}])) : null,
      WorkingDir: rc.workingDir,
      Entrypoint: rc.entrypoint,
      OnBuild: null,
      Labels: Object.keys(rc.labels).length ? rc.labels : null,
      ...(rc.stopSignal ? { StopSignal: rc.stopSignal } : {}),
      ...(rc.healthcheck ? { Healthcheck: healthcheckToJson(rc.healthcheck) } : {}),
    },
    Architecture: img.config.architecture,
    Os: img.config.os,
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: { Name: 'overlay', Data: null },
    RootFS: { Type: 'layers', Layers: img.config.rootfs.diffIds },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}
