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
  { id: 'canais', label: t('settings.channels'), Component: lazy(() => import('./Channels')) },
  { id: 'modelos', label: t('settings.templates'), Component: lazy(() => import('./Templates')) },
  { id: 'equipes', label: t('settings.teams'), Component: lazy(() => import('./Teams')) },
  { id: 'atendentes', label: t('settings.agents'), Component: lazy(() => import('./Agents')) },
  { id: 'chaves-de-api', label: t('settings.apiKeys'), Component: lazy(() => import('./ApiKeys')) },
  { id: 'webhooks', label: t('settings.webhooks'), Component: lazy(() => import('./Webhooks')) },
  { id: 'conta', label: t('settings.account'), Component: lazy(() => import('./AccountSettings')) },
  { id: 'encerramento', label: t('settings.closeReasons'), Component: lazy(() => import('./CloseReasons')) },
]
