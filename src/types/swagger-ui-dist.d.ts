declare module 'swagger-ui-dist' {
  /** Absolute path of the folder holding Swagger UI's static files. */
  export function getAbsoluteFSPath(): string;
}
