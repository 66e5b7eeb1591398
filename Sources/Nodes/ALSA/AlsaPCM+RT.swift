import CAsound
import Glibc

extension AlsaPCM {
    /// [rt] Frames the application may write (playback) or read (capture) now, after syncing
    /// the hardware pointer (`snd_pcm_avail`); a negative errno on xrun (-EPIPE), suspend
    /// (-ESTRPIPE) or a vanished device (-ENODEV, ...).
    @inline(__always)
    func availableFrames() -> Int {
        guard let pcm = handle else { return Int(-EBADFD) }
        return snd_pcm_avail(pcm)
    }

    /// [rt] Frames between the application pointer and the sound leaving (playback) or entering
    /// (capture) the device: `snd_pcm_delay`. Returns 0 or a negative errno.
    @inline(__always)
    func delayFrames(_ frames: inout Int) -> Int32 {
        guard let pcm = handle else { return -EBADFD }
        var delay: snd_pcm_sframes_t = 0
        let err = snd_pcm_delay(pcm, &delay)
        if err == 0 { frames = delay }
        return err
    }

    /// [rt] The PCM state.
    @inline(__always)
    var state: snd_pcm_state_t {
        guard let pcm = handle else { return SND_PCM_STATE_DISCONNECTED }
        return snd_pcm_state(pcm)
    }

    /// [rt] `snd_pcm_prepare`: back to PREPARED after an xrun or a drop.
    @inline(__always)
    func prepare() -> Int32 { handle.map { snd_pcm_prepare($0) } ?? -EBADFD }

    /// [rt] `snd_pcm_start`.
    @inline(__always)
    func start() -> Int32 { handle.map { snd_pcm_start($0) } ?? -EBADFD }

    /// [rt] `snd_pcm_drop`: stops at once, discarding what is queued.
    @inline(__always)
    func drop() -> Int32 { handle.map { snd_pcm_drop($0) } ?? -EBADFD }

    /// [rt] `snd_pcm_resume` after a suspend; -EAGAIN while the device is still waking,
    /// -ENOSYS when the device cannot resume (then prepare it instead).
    @inline(__always)
    func resume() -> Int32 { handle.map { snd_pcm_resume($0) } ?? -EBADFD }

    /// [rt] Writes up to `frameCount` frames taken from `channels` (one pointer per device
    /// channel, from frame `sourceOffset`), converting into the device format. With mmap access
    /// it converts straight into the device buffer; otherwise into `scratch` (at least
    /// `frameCount` frames in device format) and `snd_pcm_writei`. Non-blocking: returns the
    /// frames written (possibly fewer when the buffer is fuller), or a negative errno
    /// (-EAGAIN: no room at all; -EPIPE: underrun; -ESTRPIPE: suspended; others: gone).
    func write(_ channels: UnsafePointer<UnsafePointer<Float>>, sourceOffset: Int, frameCount: Int,
               configuration: AlsaConfiguration, scratch: UnsafeMutableRawPointer) -> Int {
        guard let pcm = handle else { return Int(-EBADFD) }
        let format = configuration.sampleFormat
        let channelCount = configuration.channelCount
        switch configuration.access {
        case .readWriteInterleaved:
            format.interleave(channels, channelCount: channelCount, sourceOffset: sourceOffset, frameCount: frameCount, into: scratch)
            return snd_pcm_writei(pcm, scratch, snd_pcm_uframes_t(frameCount))
        case .mmapInterleaved:
            return mmapTransfer(pcm, frameCount: frameCount) { address, done, frames in
                format.interleave(channels, channelCount: channelCount, sourceOffset: sourceOffset + done, frameCount: frames, into: address)
            }
        }
    }

    /// [rt] Reads up to `frameCount` frames into `channels` (one pointer per device channel,
    /// from frame `destinationOffset`), converting from the device format; the capture mirror
    /// of `write`. Returns the frames read or a negative errno (-EAGAIN: nothing yet).
    func read(into channels: UnsafePointer<UnsafeMutablePointer<Float>>, destinationOffset: Int, frameCount: Int,
              configuration: AlsaConfiguration, scratch: UnsafeMutableRawPointer) -> Int {
        guard let pcm = handle else { return Int(-EBADFD) }
        let format = configuration.sampleFormat
        let channelCount = configuration.channelCount
        switch configuration.access {
        case .readWriteInterleaved:
            let got = snd_pcm_readi(pcm, scratch, snd_pcm_uframes_t(frameCount))
            if got > 0 {
                format.deinterleave(scratch, channelCount: channelCount, frameCount: got, into: channels, destinationOffset: destinationOffset)
            }
            return got
        case .mmapInterleaved:
            return mmapTransfer(pcm, frameCount: frameCount) { address, done, frames in
                format.deinterleave(UnsafeRawPointer(address), channelCount: channelCount, frameCount: frames,
                                    into: channels, destinationOffset: destinationOffset + done)
            }
        }
    }

    /// [rt] The mmap half of `write` and `read`: up to `frameCount` frames through
    /// `snd_pcm_mmap_begin`/`commit`, in as many contiguous areas as the ring hands out.
    /// `convert(address, framesDoneSoFar, frames)` fills or empties one area. Returns the frames
    /// moved, or a negative errno when nothing moved (-EAGAIN: no room or no data yet).
    @inline(__always)
    private func mmapTransfer(_ pcm: OpaquePointer, frameCount: Int,
                              _ convert: (UnsafeMutableRawPointer, Int, Int) -> Void) -> Int {
        let avail = snd_pcm_avail_update(pcm)
        if avail < 0 { return avail }
        if avail == 0 { return Int(-EAGAIN) }
        var remaining = min(frameCount, avail)
        var done = 0
        while remaining > 0 {
            var areas: UnsafePointer<snd_pcm_channel_area_t>?
            var offset: snd_pcm_uframes_t = 0
            var frames = snd_pcm_uframes_t(remaining)
            let err = snd_pcm_mmap_begin(pcm, &areas, &offset, &frames)
            if err < 0 { return done > 0 ? done : Int(err) }
            guard let areas, frames > 0 else { break }
            convert(sluice_alsa_area_frame(areas, offset), done, Int(frames))
            let committed = snd_pcm_mmap_commit(pcm, offset, frames)
            if committed < 0 { return done > 0 ? done : committed }
            done += committed
            remaining -= committed
            if snd_pcm_uframes_t(committed) < frames { break }
        }
        return done
    }
}
