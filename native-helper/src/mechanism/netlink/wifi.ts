// The Wi-Fi network an interface is on: the SSID its station is connected to, from the kernel over
// nl80211 (the addon, native/src/wifi.c), so a network is told apart from another behind the same
// gateway MAC. No netns option: the addon asks in the calling process's namespace, and the helper runs in
// the desktop's (tests that need another start the helper there, as with `nsenter --net`).
import { native, type NativeError } from '../native.ts';

/**
 * The SSID ifname is connected to: as text when its bytes are UTF-8, else "0x" and hex. null when it is
 * not a Wi-Fi station, not connected, or the kernel has no Wi-Fi (cfg80211). Throws for an unknown ifname.
 */
export async function readSsid(ifname: string): Promise<string | null> {
  try {
    return native().wifiSsid(ifname);
  } catch (err) {
    if ((err as Partial<NativeError>).code !== 'ENODEV') throw err;
    throw Object.assign(
      new Error(`There is no network interface "${ifname}" here; \`ip link\` lists the ones there are.`, {
        cause: err,
      }),
      { code: 'ENODEV' },
    );
  }
}
