// The webhook verify token the channel form proposes: random, URL-safe, easy to paste into Meta.

/** 32 random bytes from the browser's CSPRNG as 43 base64url characters. */
export function newVerifyToken(): string {
  const bytes = new Uint8Array(32)
  crypto.getRandomValues(bytes)
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
