// Small valid media files made in the test (nothing is downloaded): a PNG, an Ogg Opus voice
// note of silence with a known length, and a one-page PDF. Each is what the server's byte sniffing
// and Chromium's decoders accept.

import { crc32, deflateSync } from 'node:zlib'

/** A width×height PNG (8-bit RGB) with a diagonal gradient, so a screenshot shows it. */
export function png(width = 96, height = 64) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([len, body, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 2, 0, 0, 0], 8) // 8 bits, RGB, deflate, no filter method, no interlace
  const rows = Buffer.alloc(height * (1 + width * 3))
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3)
    rows[row] = 0 // filter: none
    for (let x = 0; x < width; x++) {
      const p = row + 1 + x * 3
      rows[p] = 15 + Math.round((200 * x) / width)
      rows[p + 1] = 118
      rows[p + 2] = 110 + Math.round((140 * y) / height)
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

// Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial 0.
const OGG_CRC = (() => {
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let r = i << 24
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? ((r << 1) ^ 0x04c11db7) >>> 0 : (r << 1) >>> 0
    table[i] = r >>> 0
  }
  return table
})()
function oggCrc(buf) {
  let crc = 0
  for (const b of buf) crc = ((crc << 8) ^ OGG_CRC[((crc >>> 24) ^ b) & 0xff]) >>> 0
  return crc
}

function oggPage({ flags, granule, serial, seq, packets }) {
  const lacing = []
  for (const p of packets) {
    let n = p.length
    while (n >= 255) {
      lacing.push(255)
      n -= 255
    }
    lacing.push(n)
  }
  const header = Buffer.alloc(27 + lacing.length)
  header.write('OggS', 0, 'ascii')
  header[4] = 0 // version
  header[5] = flags
  header.writeBigUInt64LE(BigInt(granule), 6)
  header.writeUInt32LE(serial, 14)
  header.writeUInt32LE(seq, 18)
  header.writeUInt32LE(0, 22) // CRC, filled below
  header[26] = lacing.length
  header.set(lacing, 27)
  const page = Buffer.concat([header, ...packets])
  page.writeUInt32LE(oggCrc(page), 22)
  return page
}

/**
 * A mono Ogg Opus file of `seconds` of silence in 20 ms frames (the TOC 0xF8 and the frame bytes
 * 0xFF 0xFE that encoders use for silence): a voice note as WhatsApp records them.
 */
export function oggOpus(seconds = 3) {
  const serial = 0x5a17
  const preSkip = 312
  const head = Buffer.alloc(19)
  head.write('OpusHead', 0, 'ascii')
  head[8] = 1 // version
  head[9] = 1 // channels
  head.writeUInt16LE(preSkip, 10)
  head.writeUInt32LE(48000, 12)
  head.writeInt16LE(0, 16)
  head[18] = 0 // mapping family
  const vendor = Buffer.from('atendimento-e2e', 'ascii')
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4)
  tags.write('OpusTags', 0, 'ascii')
  tags.writeUInt32LE(vendor.length, 8)
  vendor.copy(tags, 12)
  tags.writeUInt32LE(0, 12 + vendor.length)

  const pages = [oggPage({ flags: 0x02, granule: 0, serial, seq: 0, packets: [head] }), oggPage({ flags: 0, granule: 0, serial, seq: 1, packets: [tags] })]
  const frames = Math.round(seconds * 50) + Math.ceil(preSkip / 960)
  const perPage = 50
  let sent = 0
  for (let seq = 2; sent < frames; seq++) {
    const n = Math.min(perPage, frames - sent)
    sent += n
    const packets = Array.from({ length: n }, () => Buffer.from([0xf8, 0xff, 0xfe]))
    pages.push(oggPage({ flags: sent === frames ? 0x04 : 0, granule: sent * 960, serial, seq, packets }))
  }
  return Buffer.concat(pages)
}

/** A one-page PDF saying `text` (ASCII), with a correct cross-reference table; `pad` bytes of comment make it bigger. */
export function pdf(text = 'Boleto de teste', pad = 0) {
  const stream = `BT /F1 18 Tf 72 720 Td (${text.replace(/[()\\]/g, '')}) Tj ET`
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]
  let out = '%PDF-1.4\n'
  for (let left = pad; left > 0; left -= 80) out += `%${'x'.repeat(Math.min(78, left))}\n`
  const offsets = []
  objects.forEach((o, i) => {
    offsets.push(out.length)
    out += `${i + 1} 0 obj\n${o}\nendobj\n`
  })
  const xref = out.length
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(out, 'latin1')
}
