// Every string the SPA shows, in Brazilian Portuguese. Another language is another file with the
// same keys (the `Catalog` type makes the compiler check that). Placeholders are `{name}`, and
// `t()` requires exactly the placeholders its message names.

export const ptBR = {
  'app.name': 'Atendimento',
  'app.loading': 'Carregando…',
  'app.skipToContent': 'Pular para o conteúdo',

  'login.title': 'Entrar',
  'login.subtitle': 'Acesse sua conta para atender seus contatos no WhatsApp.',
  'login.email': 'E-mail',
  'login.password': 'Senha',
  'login.submit': 'Entrar',
  'login.submitting': 'Entrando…',
  'login.invalid': 'E-mail ou senha incorretos.',

  'header.logout': 'Sair',
  'header.signedInAs': 'Conectado como {name}',

  'inbox.title': 'Atendimentos',
  'inbox.tabs': 'Filtrar atendimentos',
  'inbox.tab.mine': 'Meus',
  'inbox.tab.waiting': 'Aguardando',
  'inbox.tab.others': 'Outros',
  'inbox.moreOptions': 'Outras opções',
  'inbox.newConversation': 'Novo atendimento',
  'inbox.empty.mine': 'Nenhum atendimento ativo nas suas equipes.',
  'inbox.empty.waiting': 'Nenhum atendimento aguardando resposta.',
  'inbox.empty.others': 'Nenhum outro atendimento.',
  'inbox.loadError': 'Não foi possível carregar os atendimentos.',
  'inbox.retry': 'Tentar de novo',
  'inbox.selectPrompt': 'Selecione um atendimento ou inicie um novo.',
  'inbox.selectHint': 'Digite o número do contato com DDD no canto inferior esquerdo e clique em "Conversar".',

  'row.window.open': 'Janela: {remaining}',
  'row.window.closed': 'Janela fechada',
  'row.window.waiting': 'Aguardando resposta',
  'row.scheduledFor': 'Agendado para {date}',

  'status.scheduled': 'Agendado',
  'status.waiting': 'Aguardando',
  'status.active': 'Ativo',
  'status.closed': 'Encerrado',
  'status.failed': 'Falhou',
  'status.cancelled': 'Cancelado',

  'phone.label': 'Digite o número com DDD',
  'phone.placeholder': '(11) 98765-4321',
  'phone.submit': 'Conversar',
  'phone.searching': 'Procurando…',
  'phone.required': 'Digite o número do contato com DDD.',

  'notFound.title': 'Contato não encontrado',
  'notFound.body': 'Nenhum contato com o número {phone}. Cadastre-o para iniciar o atendimento.',

  'contactSearch.title': 'Novo atendimento',
  'contactSearch.label': 'Pesquisar contato',
  'contactSearch.placeholder': 'Nome ou telefone',
  'contactSearch.hint': 'Digite o nome ou o telefone do contato.',
  'contactSearch.searching': 'Pesquisando…',
  'contactSearch.none': 'Nenhum contato encontrado.',
  'contactSearch.results': 'Contatos encontrados',
  'contactSearch.newContact': 'Novo contato',

  'contactForm.title': 'Novo contato',
  'contactForm.name': 'Nome',
  'contactForm.phone': 'Telefone',
  'contactForm.phoneHint': 'Com DDD, por exemplo 11 98765-4321.',
  'contactForm.save': 'Salvar contato',
  'contactForm.saving': 'Salvando…',
  'contactForm.exists': 'Já existe um contato com este telefone.',
  'contactForm.useExisting': 'Usar contato existente',

  'consent.heading': 'Mensagens de marketing',
  'consent.optedIn': 'Recebe mensagens de marketing',
  'consent.optedInSince': 'Recebe mensagens de marketing desde {date}',
  'consent.optedOut': 'Não recebe mensagens de marketing',
  'consent.optedOutSince': 'Não recebe mensagens de marketing desde {date}',
  'consent.showHistory': 'Ver histórico',
  'consent.hideHistory': 'Ocultar histórico',
  'consent.history': 'Histórico de consentimento de {name}',
  'consent.historyEmpty': 'Nenhuma alteração registrada.',
  'consent.historyError': 'Não foi possível carregar o histórico.',
  'consent.entry.optedOut': 'Descadastrado',
  'consent.entry.optedIn': 'Reativado',
  'consent.entry.line': '{date} · {source}',
  'consent.source.keyword': 'palavra-chave',
  'consent.source.meta': 'preferência no WhatsApp',
  'consent.source.agent': 'atendente',
  'consent.source.api': 'API',
  'consent.source.csv': 'importação CSV',
  'consent.optOut': 'Marcar como descadastrado',
  'consent.optIn': 'Reativar marketing',
  'consent.confirmOptOut':
    'Marcar {name} como descadastrado? Modelos de marketing deixam de ser enviados a este contato, inclusive os que estão na fila; modelos de utilidade e autenticação continuam.',
  'consent.confirmOptIn':
    'Reativar as mensagens de marketing para {name}? Faça isso apenas se o contato pediu para voltar a recebê-las.',
  'consent.note': 'Observação (opcional)',
  'consent.notePlaceholder': 'Ex.: pediu por telefone para não receber ofertas.',
  'consent.confirm': 'Confirmar',
  'consent.keep': 'Não alterar',
  'consent.saving': 'Salvando…',

  'common.cancel': 'Cancelar',
  'common.close': 'Fechar',
  'common.back': 'Voltar',
  'common.continue': 'Continuar',
  'common.change': 'Alterar',
  'common.loading': 'Carregando…',
  'common.required': 'Preencha este campo.',
  'common.unexpected': 'Algo deu errado. Tente de novo.',

  'send.title': 'Enviar mensagem',
  'send.stepOf': 'Etapa {current} de {total}',
  'send.contact': 'Contato',
  'send.contactConfirm': 'Confirme os dados do contato antes de continuar.',
  'send.typeHeading': 'Selecione o tipo de envio',
  'send.type.now': 'Iniciar atendimento',
  'send.type.nowHint': 'Envia a mensagem agora e começa a conversa.',
  'send.type.scheduled': 'Agendar mensagem',
  'send.type.scheduledHint': 'Escolha a data e a hora em que a mensagem será enviada.',
  'send.scheduledAt': 'Data e hora do envio',
  'send.scheduledAtHint': 'Horário local ({zone}).',
  'send.scheduledAtPast': 'Escolha uma data e hora no futuro.',
  'send.channelHeading': 'Selecione um canal',
  'send.channelOnly': 'Canal: {name}',
  'send.noChannels': 'Nenhum canal ativo. Peça a um administrador para cadastrar um canal.',
  'send.teamHeading': 'Selecione uma equipe',
  'send.teamPickChannel': 'Escolha um canal para ver as equipes.',
  'send.noTeams': 'Nenhuma equipe pode usar este canal.',
  'send.summary.now': 'Envio imediato',
  'send.summary.scheduled': 'Envio agendado para {date}',
  'send.summary.channel': 'Canal: {name}',
  'send.summary.team': 'Equipe: {name}',

  'template.heading': 'Modelo de mensagem',
  'template.hint': 'Fora da janela de 24 horas, o atendimento começa com um modelo aprovado pela Meta.',
  'template.search': 'Pesquisar modelo',
  'template.searchPlaceholder': 'Pesquisar pelo nome ou texto',
  'template.categories': 'Categoria',
  'template.category.ALL': 'Todos os modelos',
  'template.category.MARKETING': 'Marketing',
  'template.category.UTILITY': 'Utilidade',
  'template.category.AUTHENTICATION': 'Autenticação',
  'template.list': 'Modelos aprovados',
  'template.none': 'Nenhum modelo aprovado encontrado para este canal.',
  'template.next': 'Definir parâmetros',
  'template.unavailableOptedOut': 'Indisponível: o contato pediu para não receber mensagens de marketing',
  'template.quality.YELLOW': 'Qualidade em atenção',
  'template.quality.RED': 'Qualidade baixa: a Meta pode pausar este modelo',

  'params.heading': 'Parâmetros',
  'params.none': 'Este modelo não tem parâmetros. Confira a pré-visualização e continue.',
  'params.hint': 'Preencha o valor que substituirá cada variável.',
  'params.buttonVariable': 'Final do link do botão “{button}”: {url}',
  'params.preview': 'Pré-visualização',
  'params.buttons': 'Botões da mensagem',
  'params.cost': 'Custo estimado',
  'params.costFree': 'Sem cobrança',
  'params.costPerMessage': '{amount} por mensagem entregue',
  'params.costNote': 'Mensagens iniciadas pela empresa com modelo são cobradas pela Meta.',
  'params.costRateCard': 'Tabela de preços de {date}.',
  'params.costUnavailable': 'Não foi possível estimar o custo.',
  'params.submitNow': 'Iniciar atendimento',
  'params.submitScheduled': 'Agendar',
  'params.submitting': 'Enviando…',
  'params.fixErrors': 'Corrija os campos indicados.',
  'params.conflict': 'Já existe um atendimento aberto com {name} neste canal.',
  'params.openExisting': 'Abrir atendimento existente',

  'conversation.back': 'Voltar aos atendimentos',
  'conversation.loadError': 'Não foi possível carregar este atendimento.',
  'conversation.close': 'Encerrar',
  'conversation.contactInfo': 'Dados do contato {name}',
  'conversation.cancelSchedule': 'Cancelar agendamento',
  'conversation.channelTeam': '{channel} · {team}',
  'conversation.messages': 'Mensagens',
  'conversation.waitingTitle': 'Aguardando a resposta do contato',
  'conversation.waitingBody':
    '{name} ainda não respondeu. Você pode escrever agora: as mensagens ficam na fila e serão enviadas automaticamente assim que o contato responder.',
  'conversation.scheduledTitle': 'Mensagem agendada',
  'conversation.scheduledBody': 'O modelo de mensagem será enviado em {date}. Mensagens escritas agora ficam na fila.',
  'conversation.closedBody': 'Este atendimento foi encerrado.',
  'conversation.cancelledBody': 'Este agendamento foi cancelado.',
  'conversation.failedBody': 'O WhatsApp recusou a mensagem de abertura: {reason}',
  'conversation.windowOpen': 'Janela de 24 horas aberta: {remaining}',
  'conversation.windowClosedTitle': 'A janela de 24 horas terminou',
  'conversation.windowClosedBody':
    'Para retomar a conversa, envie um modelo de mensagem aprovado. Texto livre volta a ser possível quando o contato responder.',
  'conversation.chooseTemplate': 'Escolher modelo de mensagem',
  'conversation.templateDialog': 'Enviar modelo de mensagem',
  'conversation.sendTemplate': 'Enviar modelo',
  'conversation.noMessages': 'Nenhuma mensagem ainda.',

  'sandbox.summary': 'Canal de teste: simular uma resposta do contato',
  'sandbox.label': 'Resposta do contato',
  'sandbox.placeholder': 'Oi! Pode falar.',
  'sandbox.submit': 'Simular resposta',

  'composer.label': 'Mensagem',
  'composer.placeholder': 'Escreva uma mensagem',
  'composer.placeholderQueued': 'Escreva uma mensagem (ela vai para a fila)',
  'composer.send': 'Enviar',
  'composer.queue': 'Colocar na fila',

  'message.status.scheduled': 'agendada',
  'message.status.queued': 'na fila',
  'message.status.pending': 'enviando',
  'message.status.sent': 'enviada',
  'message.status.delivered': 'entregue',
  'message.status.read': 'lida',
  'message.status.failed': 'falhou',
  'message.status.received': 'recebida',
  'message.status.cancelled': 'cancelada',
  'message.failedReason': 'falhou: {reason}',
  'message.withdraw': 'Retirar da fila',
  'message.withdrawLabel': 'Retirar da fila: “{text}”',
  'message.template': 'Modelo de mensagem',
  'message.from.contact': '{name} disse',
  'message.from.agent': 'Você enviou',

  'time.remaining.hours': '{h} h {m} min',
  'time.remaining.minutes': '{m} min',
  'time.remaining.lessThanMinute': 'menos de 1 min',

  'error.network_error': 'Sem conexão com o servidor. Verifique sua internet e tente de novo.',
  'error.phone_invalid': 'Número inválido. Digite com DDD, por exemplo 11 98765-4321.',
  'error.contact_not_found': 'Contato não encontrado.',
  'error.contact_required': 'Escolha um contato ou informe o telefone.',
  'error.contact_opted_out': 'O contato pediu para não receber mensagens de marketing.',
  'error.keyword_invalid': 'Palavra-chave inválida: use até 40 caracteres, sem repetir e sem estar nas duas listas.',
  'error.opt_out_confirmation_invalid': 'A mensagem de confirmação pode ter no máximo 1024 caracteres.',
  'error.detail_invalid': 'A observação pode ter no máximo 500 caracteres, sem quebras de linha.',
  'error.source_invalid': 'Origem inválida: a única origem aceita aqui é csv (importação de planilha).',
  'error.import_key_invalid': 'Chave de importação inválida: use de 1 a 200 caracteres, só com a origem csv.',
  'error.at_invalid': 'Data inválida: use só com a origem csv e não informe uma data no futuro.',
  'error.contact_exists': 'Já existe um contato com este telefone.',
  'error.channel_not_found': 'Canal não encontrado.',
  'error.channel_required': 'Escolha um canal.',
  'error.channel_inactive': 'Este canal está desativado.',
  'error.team_not_found': 'Equipe não encontrada.',
  'error.team_required': 'Escolha uma equipe.',
  'error.team_not_allowed_on_channel': 'Esta equipe não pode usar este canal.',
  'error.user_not_in_team': 'Você não faz parte desta equipe.',
  'error.template_not_found': 'Modelo não encontrado.',
  'error.template_not_approved': 'Este modelo não está aprovado.',
  'error.template_channel_mismatch': 'Este modelo não pertence ao canal escolhido.',
  'error.template_required':
    'Escolha um modelo de mensagem aprovado: fora da janela de 24 horas, só um modelo inicia ou retoma a conversa.',
  'error.parameter_missing': 'Preencha este parâmetro.',
  'error.parameter_unknown': 'Este parâmetro não existe no modelo.',
  'error.parameter_invalid':
    'Valor inválido: não use quebras de linha, tabulações nem mais de quatro espaços seguidos.',
  'error.scheduled_at_invalid': 'Escolha uma data e hora no futuro, em até 30 dias.',
  'error.conversation_closed': 'Este atendimento está encerrado.',
  'error.conversation_already_open': 'Já existe um atendimento aberto com este contato neste canal.',
  'error.idempotency_key_reused': 'Os dados mudaram durante o envio. Tente de novo.',
  'error.required': 'Preencha este campo.',
  'error.forbidden': 'Você não tem permissão para fazer isso.',
  'error.unsupported_media_type': 'O servidor recusou o formato dos dados enviados. Recarregue a página e tente de novo.',
  'error.route_not_found': 'Endereço não encontrado no servidor. Recarregue a página e tente de novo.',
} as const

/** A message catalogue: the same keys as pt-BR, any wording. */
export type Catalog = { readonly [K in keyof typeof ptBR]: string }
export type MessageKey = keyof typeof ptBR

type Placeholders<S extends string> = S extends `${string}{${infer V}}${infer Rest}` ? V | Placeholders<Rest> : never
type Args<K extends MessageKey> = [Placeholders<(typeof ptBR)[K]>] extends [never]
  ? []
  : [params: Record<Placeholders<(typeof ptBR)[K]>, string | number>]

const catalog: Catalog = ptBR

/** Translates a key, filling its `{placeholders}`. */
export function t<K extends MessageKey>(key: K, ...args: Args<K>): string {
  const msg: string = catalog[key]
  const params = args[0] as Record<string, string | number> | undefined
  if (!params) return msg
  return msg.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m))
}

/** The pt-BR text for an API error code, or the fallback (usually the server's own message). */
export function errorText(code: string | undefined, fallback?: string): string {
  const key = `error.${code ?? ''}`
  if (key in catalog) return catalog[key as MessageKey]
  return fallback || catalog['common.unexpected']
}

/** The BCP 47 tag used by every Intl formatter. */
export const LOCALE = 'pt-BR'
