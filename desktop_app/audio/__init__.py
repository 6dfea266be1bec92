"""The audio engine: devices, capture, playback, rings, resampling, codecs and levels.

Threading (architecture §1): PortAudio callbacks only copy into or out of preallocated buffers and
count samples; everything else runs on the event loop. See :mod:`desktop_app.audio.engine` for the
object that ties capture and playback together.
"""
