import { lazy, type ComponentType, type LazyExoticComponent } from 'react'
import { t } from '../i18n/pt-BR'

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

export const settingsSections: SettingsSection[] = [
  { id: 'encerramento', label: t('settings.closeReasons'), Component: lazy(() => import('./CloseReasons')) },
]
