import type { ComponentType, LazyExoticComponent } from 'react'

/**
 * The sections of "Configurações", in the order the side menu lists them. `id` is the route
 * (`#/configuracoes/<id>`); `label` its pt-BR name (`t('settings.…')`). Each section is its own chunk:
 * `Component: lazy(() => import('./Channels'))`.
 */
export type SettingsSection = {
  id: string
  label: string
  Component: LazyExoticComponent<ComponentType>
}

export const settingsSections: SettingsSection[] = []
