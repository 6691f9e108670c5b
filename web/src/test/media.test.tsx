import { act, fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it, vi } from 'vitest'
import type { Message } from '../api'
import { FakeMediaApi, fakeXhr, mediaTemplate } from './fakeMedia'
import { conversar, toParameters } from './helpers'
import { renderApp } from './renderApp'

/** Mariana's open conversation (window open) against the fake with media, uploads through the fake XHR. */
async function withMariana(setup: (fake: FakeMediaApi) => void = () => {}) {
  const fake = new FakeMediaApi()
  setup(fake)
  vi.stubGlobal('XMLHttpRequest', fakeXhr(fake))
  const r = await renderApp({ fake, hash: '#/atendimentos/cv-mariana' })
  await screen.findByRole('heading', { name: 'Mariana Costa', level: 2 })
  return { ...r, fake }
}

const png = (name = 'comprovante.png', size = 2048) => new File([new Uint8Array(size)], name, { type: 'image/png' })
const pdf = (name = 'boleto.pdf', size = 48_000) => new File([new Uint8Array(size)], name, { type: 'application/pdf' })
const item = (text: string | RegExp) => history().getByText(text).closest('li') as HTMLElement
const history = () => within(screen.getByRole('list', { name: 'Mensagens' }))

describe('media in the history', () => {
  it('plays voice notes in place with their length and a 1× / 1,5× / 2× toggle', async () => {
    const { fake, user } = await withMariana((f) =>
      f.addMedia('cv-mariana', 'in', { id: 'md-voz', kind: 'audio', mime_type: 'audio/ogg', size: 9000, voice: true }),
    )
    const player = await screen.findByLabelText('Mensagem de voz')
    expect(player.tagName).toBe('AUDIO')
    expect(player).toHaveAttribute('src', '/api/v1/media/md-voz')
    expect(player).toHaveAttribute('controls')
    const audio = player as HTMLAudioElement

    // The length shows once the browser has read it.
    Object.defineProperty(audio, 'duration', { configurable: true, get: () => 7.4 })
    fireEvent.loadedMetadata(audio)
    expect(await screen.findByText('0:07')).toBeInTheDocument()
    expect(screen.getByText('0:07').closest('.audio-duration')).toHaveTextContent('Duração: 0:07')

    const speed = screen.getByRole('button', { name: 'Velocidade de reprodução: 1×' })
    await user.click(speed)
    expect(speed).toHaveAccessibleName('Velocidade de reprodução: 1,5×')
    expect(speed).toHaveTextContent('1,5×')
    expect(audio.playbackRate).toBe(1.5)
    expect(audio.defaultPlaybackRate).toBe(1.5)
    await user.click(speed)
    expect(audio.playbackRate).toBe(2)
    await user.click(speed)
    expect(audio.playbackRate).toBe(1)
    expect(speed).toHaveTextContent('1×')
    expect(fake.requests.some((r) => r.path.startsWith('/api/v1/media'))).toBe(false)
  })

  it('shows "Baixando…" while the media is fetched, then the media itself when message.updated says it is ready', async () => {
    let msg: Message | undefined
    const { fake } = await withMariana((f) => {
      msg = f.addMedia('cv-mariana', 'in', { id: 'md-foto', kind: 'image', mime_type: 'image/jpeg', status: 'pending', caption: 'Meu comprovante' })
    })
    expect(await screen.findByText('Imagem · Baixando…')).toBeInTheDocument()
    expect(history().getByText('Meu comprovante')).toBeInTheDocument()
    act(() => fake.emit('message.updated', { ...msg!, updated_at: new Date(Date.now() + 1000).toISOString(), media: { ...msg!.media!, status: 'ready' } }))
    expect(await screen.findByRole('button', { name: 'Ver imagem em tamanho real: Meu comprovante' })).toBeInTheDocument()
    expect(screen.queryByText(/Baixando/)).not.toBeInTheDocument()
  })

  it('says why a media could not be fetched', async () => {
    await withMariana((f) =>
      f.addMedia('cv-mariana', 'in', { kind: 'document', mime_type: 'application/pdf', status: 'failed', failure: 'a Meta não tem mais este arquivo' }),
    )
    expect(await screen.findByText('Documento · Não foi possível baixar o arquivo: a Meta não tem mais este arquivo')).toBeInTheDocument()
  })

  it('opens an image full size in a dialog that Esc closes', async () => {
    const { user } = await withMariana((f) => f.addMedia('cv-mariana', 'in', { id: 'md-foto', kind: 'image', mime_type: 'image/jpeg', caption: 'Nota fiscal' }))
    const thumb = await screen.findByRole('button', { name: 'Ver imagem em tamanho real: Nota fiscal' })
    expect(thumb.querySelector('img')).toHaveAttribute('src', '/api/v1/media/md-foto')
    await user.click(thumb)
    const dialog = await screen.findByRole('dialog', { name: 'Imagem' })
    expect(within(dialog).getByRole('img', { name: 'Nota fiscal' })).toHaveAttribute('src', '/api/v1/media/md-foto')
    await user.keyboard('{Escape}')
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Imagem' })).not.toBeInTheDocument())
  })

  it('plays video, offers documents for download, shows stickers, maps, contact cards, reactions and replies', async () => {
    await withMariana((f) => {
      f.addMedia('cv-mariana', 'in', { id: 'md-video', kind: 'video', mime_type: 'video/mp4', caption: 'Como chegou' })
      f.addMedia('cv-mariana', 'in', { id: 'md-doc', kind: 'document', mime_type: 'application/pdf', filename: 'boleto-março.pdf', size: 48_213 })
      f.addMedia('cv-mariana', 'in', { id: 'md-fig', kind: 'sticker', mime_type: 'image/webp' })
      f.addMessage('cv-mariana', {
        direction: 'in',
        type: 'location',
        status: 'received',
        content: { latitude: -23.5613, longitude: -46.6565, name: 'Loja Paulista', address: 'Av. Paulista, 1000' },
      } as Partial<Message> & Pick<Message, 'direction' | 'type' | 'status'>)
      f.addMessage('cv-mariana', {
        direction: 'in',
        type: 'contacts',
        status: 'received',
        content: { contacts: [{ name: { formatted_name: 'Carlos Lima' }, phones: [{ phone: '+5511912345678' }] }] },
      } as Partial<Message> & Pick<Message, 'direction' | 'type' | 'status'>)
      f.addMessage('cv-mariana', { direction: 'in', type: 'reaction', status: 'received', content: { emoji: '👍', message_id: 'wamid.x' } } as Partial<Message> &
        Pick<Message, 'direction' | 'type' | 'status'>)
      f.addMessage('cv-mariana', {
        direction: 'in',
        type: 'interactive',
        status: 'received',
        content: { type: 'button_reply', button_reply: { id: 'sim', title: 'Sim, confirmo' } },
      } as Partial<Message> & Pick<Message, 'direction' | 'type' | 'status'>)
    })
    const video = await screen.findByLabelText('Como chegou')
    expect(video.tagName).toBe('VIDEO')
    expect(video).toHaveAttribute('src', '/api/v1/media/md-video')
    expect(video).toHaveAttribute('controls')

    const download = screen.getByRole('link', { name: 'Baixar boleto-março.pdf (48 KB)' })
    expect(download).toHaveAttribute('href', '/api/v1/media/md-doc')
    expect(download).toHaveAttribute('download', 'boleto-março.pdf')
    expect(screen.getByText('boleto-março.pdf')).toBeInTheDocument()

    expect(screen.getByRole('img', { name: 'Figurinha' })).toHaveAttribute('src', '/api/v1/media/md-fig')

    const map = screen.getByRole('link', { name: 'Abrir no mapa (OpenStreetMap): Loja Paulista, Av. Paulista, 1000' })
    expect(map).toHaveAttribute('href', expect.stringMatching(/^https:\/\/www\.openstreetmap\.org\/\?mlat=-23\.5613&mlon=-46\.6565/))
    expect(map).toHaveAttribute('rel', 'noopener noreferrer')

    const card = within(screen.getByRole('list', { name: 'Contato compartilhado' }))
    expect(card.getByText('Carlos Lima')).toBeInTheDocument()
    expect(card.getByRole('link', { name: '+55 11 91234-5678' })).toHaveAttribute('href', 'tel:+5511912345678')

    expect(history().getByText('Reagiu com 👍')).toBeInTheDocument()
    expect(history().getByText('Respondeu: Sim, confirmo')).toBeInTheDocument()
  })
})

describe('attachments in the composer', () => {
  it('attaches by the button, shows the preview and the upload’s progress, and sends {media_id, caption}', async () => {
    const { fake, user } = await withMariana((f) => (f.holdUploads = true))
    await user.upload(screen.getByLabelText('Anexar arquivo', { selector: 'input' }), png())

    const preview = await screen.findByRole('group', { name: 'Anexo' })
    expect(within(preview).getByText('comprovante.png')).toBeInTheDocument()
    expect(within(preview).getByText('2 KB')).toBeInTheDocument()
    await waitFor(() => expect(preview.querySelector('img.attachment-thumb')).toHaveAttribute('src', expect.stringMatching(/^data:image\/png;base64,/)))
    const bar = within(preview).getByRole('progressbar', { name: 'Envio do arquivo comprovante.png' })
    expect(bar).toHaveAttribute('value', '0')

    await waitFor(() => expect(fake.held).toHaveLength(1))
    act(() => fake.held[0].progress(0.4))
    expect(await within(preview).findByText('Enviando arquivo: 40%')).toBeInTheDocument()
    expect(bar).toHaveAttribute('value', '40')

    // The upload is a multipart POST /media carrying the session's CSRF header.
    const up = fake.lastUpload()!
    expect(up.headers['x-csrf-token']).toBe('csrf-token-1')
    expect((up.body as { file: File }).file.name).toBe('comprovante.png')
    expect((up.body as { filename: string }).filename).toBe('comprovante.png')

    // Sending waits for the upload to finish.
    await user.type(screen.getByLabelText('Mensagem'), 'Segue o comprovante')
    await user.click(screen.getByRole('button', { name: 'Enviar' }))
    expect(fake.calls('POST', '/api/v1/conversations/cv-mariana/messages')).toHaveLength(0)
    act(() => fake.held[0].finish())

    const sent = await screen.findByRole('button', { name: 'Ver imagem em tamanho real: Segue o comprovante' })
    expect(sent.querySelector('img')).toHaveAttribute('src', '/api/v1/media/md-1')
    expect(fake.calls('POST', '/api/v1/conversations/cv-mariana/messages').map((r) => r.body)).toEqual([{ media_id: 'md-1', caption: 'Segue o comprovante' }])
    expect(screen.queryByRole('group', { name: 'Anexo' })).not.toBeInTheDocument()
    expect(screen.getByLabelText('Mensagem')).toHaveValue('')
  })

  it('can remove an attachment before sending (the upload is abandoned)', async () => {
    const { fake, user } = await withMariana((f) => (f.holdUploads = true))
    await user.upload(screen.getByLabelText('Anexar arquivo', { selector: 'input' }), pdf())
    await screen.findByRole('group', { name: 'Anexo' })
    await user.click(screen.getByRole('button', { name: 'Remover anexo boleto.pdf' }))
    expect(screen.queryByRole('group', { name: 'Anexo' })).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Enviar' })).toBeDisabled()
    act(() => fake.held[0].finish()) // too late: aborted
    expect(fake.uploads).toHaveLength(0)
  })

  it('shows 413 and 415 in Portuguese and sends nothing', async () => {
    const { fake, user } = await withMariana()
    await user.upload(screen.getByLabelText('Anexar arquivo', { selector: 'input' }), new File([new Uint8Array(6_000_000)], 'foto-grande.png', { type: 'image/png' }))
    expect(
      await screen.findByText(
        'O arquivo não foi enviado: O arquivo é maior do que o WhatsApp aceita para este tipo (imagem 5 MB, áudio e vídeo 16 MB, documento 100 MB, figurinha 100 KB).',
      ),
    ).toBeInTheDocument()
    await user.type(screen.getByLabelText('Mensagem'), 'legenda')
    expect(screen.getByRole('button', { name: 'Enviar' })).toBeDisabled()

    await user.upload(screen.getByLabelText('Anexar arquivo', { selector: 'input' }), new File(['MZ'], 'programa.exe', { type: 'application/x-msdownload' }))
    expect(await screen.findByText(/^O arquivo não foi enviado: O WhatsApp não aceita arquivos deste tipo/)).toBeInTheDocument()
    expect(screen.queryByText(/maior do que o WhatsApp/)).not.toBeInTheDocument()
    expect(fake.calls('POST', '/api/v1/conversations/cv-mariana/messages')).toHaveLength(0)
  })

  it('attaches a dropped file and a pasted image', async () => {
    const { fake } = await withMariana()
    const composer = screen.getByLabelText('Mensagem').closest('form')!
    const dropped = pdf('contrato.pdf')
    fireEvent.dragEnter(composer, { dataTransfer: { types: ['Files'], files: [dropped] } })
    expect(screen.getByText('Solte o arquivo para anexar')).toBeInTheDocument()
    fireEvent.drop(composer, { dataTransfer: { types: ['Files'], files: [dropped] } })
    expect(screen.queryByText('Solte o arquivo para anexar')).not.toBeInTheDocument()
    const preview = await screen.findByRole('group', { name: 'Anexo' })
    expect(within(preview).getByText('contrato.pdf')).toBeInTheDocument()
    expect(await within(preview).findByText('Arquivo pronto para enviar')).toBeInTheDocument()

    // A pasted screenshot replaces it; pasted text stays typing.
    fireEvent.paste(screen.getByLabelText('Mensagem'), { clipboardData: { files: [png('print.png')], getData: () => '' } })
    expect(await within(screen.getByRole('group', { name: 'Anexo' })).findByText('print.png')).toBeInTheDocument()
    expect(screen.queryByText('contrato.pdf')).not.toBeInTheDocument()
    await waitFor(() => expect(fake.uploads.map((u) => u.filename)).toEqual(['contrato.pdf', 'print.png']))
  })

  it('sends a voice file without a caption, and the text after it', async () => {
    const { fake, user } = await withMariana()
    await user.upload(screen.getByLabelText('Anexar arquivo', { selector: 'input' }), new File([new Uint8Array(100)], 'audio.ogg', { type: 'audio/ogg' }))
    await user.type(screen.getByLabelText('Mensagem'), 'Ouça o áudio')
    await user.click(screen.getByRole('button', { name: 'Enviar' }))
    await waitFor(() => expect(history().getByText('Ouça o áudio')).toBeInTheDocument())
    expect(fake.calls('POST', '/api/v1/conversations/cv-mariana/messages').map((r) => r.body)).toEqual([{ media_id: 'md-1' }, { text: 'Ouça o áudio' }])
  })
})

describe('sandbox: the contact sends a file', () => {
  it('uploads it, then simulates the inbound media message', async () => {
    const { fake, user } = await withMariana()
    await user.click(await screen.findByText('Canal de teste: simular uma resposta do contato'))
    await user.upload(screen.getByLabelText('Anexar arquivo à resposta simulada', { selector: 'input' }), pdf('nota.pdf'))
    await user.type(screen.getByLabelText('Resposta do contato'), 'Minha nota')
    await user.click(screen.getByRole('button', { name: 'Simular resposta' }))
    expect(await screen.findByRole('link', { name: 'Baixar nota.pdf (48 KB)' })).toBeInTheDocument()
    expect(fake.calls('POST', '/api/v1/sandbox/channels/ch-vendas/inbound').map((r) => r.body)).toEqual([
      { from: '+5531991112222', name: 'Mariana Costa', media_id: 'md-1', caption: 'Minha nota' },
    ])
    expect(item('Minha nota')).toHaveClass('message-in')
  })
})

describe('"Parâmetros" of a template with a media header', () => {
  async function toMediaParameters(format: 'IMAGE' | 'DOCUMENT') {
    const fake = new FakeMediaApi()
    fake.templates.push(mediaTemplate(format))
    vi.stubGlobal('XMLHttpRequest', fakeXhr(fake))
    const r = await renderApp({ fake })
    const dialog = await conversar(r.user, '11987654321')
    await toParameters(r.user, dialog, { channel: 'Vendas WhatsApp', template: 'boleto_mes' })
    await r.user.type(within(dialog).getByLabelText('[1]'), 'Maria')
    return { ...r, fake, dialog: within(dialog) }
  }

  it('asks for the header file, uploads it, previews the image and starts with header_media {media_id}', async () => {
    const { fake, user, dialog } = await toMediaParameters('IMAGE')
    expect(dialog.getByText('Este modelo começa com uma imagem (JPEG ou PNG, até 5 MB).')).toBeInTheDocument()
    expect(dialog.getByRole('radio', { name: 'Enviar arquivo' })).toBeChecked()
    // Submitting without a file: the error is at the header's field, nothing is sent.
    await user.click(dialog.getByRole('button', { name: 'Iniciar atendimento' }))
    expect(await dialog.findByText('Este modelo tem imagem, vídeo ou documento no cabeçalho: envie o arquivo ou um link.')).toBeInTheDocument()
    expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(0)

    const chooser = dialog.getByLabelText('Escolher arquivo', { selector: 'input' })
    expect(chooser).toHaveAttribute('accept', 'image/jpeg,image/png')
    await user.upload(chooser, png('promo.png'))
    expect(await dialog.findByText('Arquivo pronto para enviar')).toBeInTheDocument()
    const preview = within(screen.getByTestId('params-preview'))
    await waitFor(() => expect(preview.getByRole('img', { name: 'promo.png' })).toHaveAttribute('src', expect.stringMatching(/^data:image\/png/)))
    expect(dialog.queryByText(/precisa de um arquivo no cabeçalho/)).not.toBeInTheDocument()

    await user.click(dialog.getByRole('button', { name: 'Iniciar atendimento' }))
    await waitFor(() => expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(1))
    expect(fake.calls('POST', '/api/v1/conversations')[0].body).toMatchObject({ template_id: 'tp-boleto', parameters: { 1: 'Maria' }, header_media: { media_id: 'md-1' } })
  })

  it('takes a link instead, checks it is https, and names the linked file in the preview', async () => {
    const { fake, user, dialog } = await toMediaParameters('DOCUMENT')
    await user.click(dialog.getByRole('radio', { name: 'Usar um link' }))
    const link = dialog.getByLabelText('Link público do arquivo (https://…)')
    await user.type(link, 'http://loja.example.com/boleto.pdf')
    await user.click(dialog.getByRole('button', { name: 'Iniciar atendimento' }))
    expect(await dialog.findByText('Informe um link que comece com https://.')).toBeInTheDocument()
    await user.clear(link)
    await user.type(link, 'https://loja.example.com/boletos/marco.pdf')
    expect(within(screen.getByTestId('params-preview')).getByText(/Arquivo do link: marco\.pdf/)).toBeInTheDocument()
    await user.click(dialog.getByRole('button', { name: 'Iniciar atendimento' }))
    await waitFor(() => expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(1))
    expect(fake.calls('POST', '/api/v1/conversations')[0].body).toMatchObject({ header_media: { link: 'https://loja.example.com/boletos/marco.pdf' } })
  })

  it('shows header_media_kind_mismatch from the server at the header field', async () => {
    const { fake, user, dialog } = await toMediaParameters('DOCUMENT')
    // The chooser offers documents; a file dropped on it anyway is judged by the server.
    fireEvent.change(dialog.getByLabelText('Escolher arquivo', { selector: 'input' }), { target: { files: [png('foto.png')] } })
    expect(await dialog.findByText('Arquivo pronto para enviar')).toBeInTheDocument()
    await user.click(dialog.getByRole('button', { name: 'Iniciar atendimento' }))
    expect(await dialog.findByText('O arquivo não é do tipo que o cabeçalho do modelo pede (imagem, vídeo ou documento).')).toBeInTheDocument()
    expect(fake.conversations.filter((c) => c.contact.id === 'ct-joao')).toHaveLength(0)
  })
})

describe('screen readers hear what arrived', () => {
  it('names an inbound voice note without a caption', async () => {
    const { fake } = await withMariana()
    const m = fake.addMedia('cv-mariana', 'in', { kind: 'audio', mime_type: 'audio/ogg', voice: true })
    act(() => fake.emit('message.created', m))
    await screen.findByLabelText('Mensagem de voz')
    expect(document.querySelector('.conversation-live')).toHaveTextContent('Mariana Costa respondeu: “Mensagem de voz”')
  })
})

describe('a media send the server refuses', () => {
  it('shows the field’s own error under the composer, not a generic one', async () => {
    const { fake, user } = await withMariana()
    await user.upload(screen.getByLabelText('Anexar arquivo', { selector: 'input' }), png())
    await screen.findByText('Arquivo pronto para enviar')
    await user.type(screen.getByLabelText('Mensagem'), 'Veja')
    fake.uploads[0].id = 'md-gone' // the server no longer has it
    await user.click(screen.getByRole('button', { name: 'Enviar' }))
    expect(await screen.findByText('Arquivo não encontrado.')).toBeInTheDocument()
  })
})
