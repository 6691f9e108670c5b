/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Base path of the API; defaults to the same-origin `/api/v1`. */
  readonly VITE_API_BASE?: string
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}
